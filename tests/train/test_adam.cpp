// Adam against a plain double-precision transcription of PyTorch's update rule, and the
// exponential learning-rate schedule against its endpoints.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/train/adam.h"

namespace sp {
namespace {

GaussianModel one_gaussian(int degree) {
  GaussianModel m;
  m.sh_degree = degree;
  m.resize(1);
  return m;
}

TEST(Adam, MatchesReferenceUpdateOverSeveralSteps) {
  GaussianModel model = one_gaussian(1);
  for (size_t k = 0; k < model.sh.size(); ++k) model.sh[k] = 0.1f * float(k);
  AdamState state;
  state.reset_like(model);
  LearningRates lr;
  lr.means = 0.01f;
  Adam adam;
  adam.eps = 1e-8f;

  // Reference for means[0] with gradients g_t = 0.5, -0.2, 1.5.
  double p = 0, m = 0, v = 0;
  const double grads[3] = {0.5, -0.2, 1.5};
  for (int t = 1; t <= 3; ++t) {
    GaussianGradients g;
    g.means = {float(grads[t - 1]), 0, 0};
    g.log_scales.assign(3, 0);
    g.rotations.assign(4, 0);
    g.opacities.assign(1, 0);
    g.sh.assign(model.sh.size(), 1.0f);
    adam.step(model, g, state, lr);
    m = 0.9 * m + 0.1 * grads[t - 1];
    v = 0.999 * v + 0.001 * grads[t - 1] * grads[t - 1];
    const double mhat = m / (1 - std::pow(0.9, t)), vhat = v / (1 - std::pow(0.999, t));
    p -= 0.01 * mhat / (std::sqrt(vhat) + 1e-8);
    EXPECT_NEAR(model.means[0], p, 1e-6) << "step " << t;
  }
  // Constant gradient 1: every step moves by lr exactly (m_hat = v_hat = 1), with the DC
  // and rest SH coefficients on their own learning rates.
  EXPECT_NEAR(model.sh[0], 0.0f - 3 * lr.sh_dc, 1e-6);
  EXPECT_NEAR(model.sh[3], 0.3f - 3 * lr.sh_rest, 1e-6);
  EXPECT_NEAR(model.means[1], 0.0f, 0.0f);  // zero gradient: no motion
}

// Below the full SH degree, the idle coefficients get zero gradients (the renderer's
// contract): skipping them must give what the full update gives, bit for bit, and a
// coefficient becomes trained once its degree is active.
TEST(Adam, IdleShDegreesAreSkippedWithTheFullUpdatesResult) {
  GaussianModel full = one_gaussian(3);
  for (size_t k = 0; k < full.sh.size(); ++k) full.sh[k] = 0.01f * float(k) - 0.2f;
  GaussianModel skipped = full;
  AdamState s_full, s_skipped;
  s_full.reset_like(full);
  s_skipped.reset_like(skipped);
  const LearningRates lr;
  for (int t = 0; t < 6; ++t) {
    const int active = t < 3 ? 0 : 1;
    GaussianGradients g;
    g.means = {0.3f, -0.1f, 0.2f};
    g.log_scales.assign(3, 0.05f);
    g.rotations.assign(4, -0.02f);
    g.opacities.assign(1, 0.4f);
    g.sh.assign(full.sh.size(), 0.0f);
    for (int k = 0; k < sh_coeff_count(active) * 3; ++k) g.sh[size_t(k)] = 0.1f * float(k % 7) - 0.3f;
    EXPECT_EQ(Adam().step(full, g, s_full, lr), nullptr);
    EXPECT_EQ(Adam().step(skipped, g, s_skipped, lr, active), nullptr);
  }
  EXPECT_EQ(full.sh, skipped.sh);
  EXPECT_EQ(s_full.m.sh, s_skipped.m.sh);
  EXPECT_EQ(s_full.v.sh, s_skipped.v.sh);
  EXPECT_EQ(full.means, skipped.means);
  EXPECT_NE(skipped.sh[4], 0.01f * 4 - 0.2f) << "a degree-1 coefficient trains once degree 1 is active";
  EXPECT_EQ(skipped.sh[20], 0.01f * 20 - 0.2f) << "a degree-2 coefficient stays";
}

TEST(Adam, ExponentialScheduleHitsEndpointsAndIsLogLinear) {
  EXPECT_NEAR(exponential_lr(1.6e-4f, 1.6e-6f, 0, 1000), 1.6e-4f, 1e-10);
  EXPECT_NEAR(exponential_lr(1.6e-4f, 1.6e-6f, 1000, 1000), 1.6e-6f, 1e-12);
  EXPECT_NEAR(exponential_lr(1.6e-4f, 1.6e-6f, 500, 1000), 1.6e-5f, 1e-10);  // geometric mean
  EXPECT_NEAR(exponential_lr(1.6e-4f, 1.6e-6f, 5000, 1000), 1.6e-6f, 1e-12);  // constant after
}

TEST(Adam, RejectsMismatchedGradients) {
  GaussianModel model = one_gaussian(0);
  AdamState state;
  state.reset_like(model);
  GaussianGradients g;  // empty
  EXPECT_THROW(Adam().step(model, g, state, LearningRates{}), std::exception);
}

}  // namespace
}  // namespace sp
