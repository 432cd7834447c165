// Clone, split, prune and opacity reset on hand-built models, checked against INRIA's rules.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/train/densify.h"

namespace sp {
namespace {

float logit(float p) { return std::log(p / (1 - p)); }

// Three Gaussians: 0 small with high gradient (clone), 1 large with high gradient (split),
// 2 transparent (prune); 3 small, low gradient (kept as is).
struct Fixture {
  GaussianModel model;
  AdamState adam;
  DensityController density;
  Fixture() {
    model.sh_degree = 0;
    model.resize(4);
    const float scales[4] = {0.001f, 0.5f, 0.001f, 0.001f};
    for (size_t i = 0; i < 4; ++i) {
      for (int d = 0; d < 3; ++d) {
        model.means[i * 3 + size_t(d)] = float(i);
        model.log_scales[i * 3 + size_t(d)] = std::log(scales[i]);
      }
      model.opacities[i] = logit(i == 2 ? 0.001f : 0.5f);
      model.sh[i * 3] = float(i);
    }
    adam.reset_like(model);
    for (float& x : adam.m.means) x = 1.0f;  // non-zero moments to see what follows
    density.resize(4);
    // Gradient stats: mean gradient = accum / count.
    density.grad_accum = {1e-3f, 1e-3f, 0.0f, 1e-5f};
    density.visible_count = {1, 1, 1, 1};
  }
};

TEST(Densify, ClonesSplitsAndPrunesLikeInria) {
  Fixture f;
  Rng rng(1);
  const auto counts = f.density.densify_and_prune(f.model, f.adam, /*extent=*/1.0f, false, rng, DensifyOptions{});
  EXPECT_EQ(counts.cloned, 1u);
  EXPECT_EQ(counts.split, 1u);
  EXPECT_EQ(counts.pruned, 1u);
  // 4 + 1 clone + 2 split children - split original - pruned = 5.
  ASSERT_EQ(f.model.size(), 5u);
  f.model.validate("densified");
  // Order: survivors of the originals (0, 3), then the clone of 0, then the split children of 1.
  EXPECT_EQ(f.model.sh[0], 0.0f);
  EXPECT_EQ(f.model.sh[3], 3.0f);
  EXPECT_EQ(f.model.sh[6], 0.0f);
  EXPECT_EQ(f.model.sh[9], 1.0f);
  EXPECT_EQ(f.model.sh[12], 1.0f);
  for (size_t j : {3u, 4u})
    for (int d = 0; d < 3; ++d) EXPECT_NEAR(std::exp(f.model.log_scales[j * 3 + size_t(d)]), 0.5f / 1.6f, 1e-6);
  // Moments follow: survivors keep theirs, new Gaussians start at zero.
  EXPECT_EQ(f.adam.m.size(), 5u);
  EXPECT_EQ(f.adam.m.means[0], 1.0f);
  EXPECT_EQ(f.adam.m.means[2 * 3], 0.0f);
  EXPECT_EQ(f.adam.m.rotations[2 * 4], 0.0f);
  // Statistics restart.
  EXPECT_EQ(f.density.grad_accum.size(), 5u);
  for (float g : f.density.grad_accum) EXPECT_EQ(g, 0.0f);
}

TEST(Densify, ScreenSizePruningOnlyWhenAsked) {
  Fixture f;
  f.density.grad_accum = {0, 0, 0, 0};
  f.density.max_radius = {50, 0, 0, 0};
  Rng rng(1);
  GaussianModel copy = f.model;
  AdamState adam_copy = f.adam;
  DensityController d2 = f.density;
  EXPECT_EQ(f.density.densify_and_prune(f.model, f.adam, 1.0f, false, rng, DensifyOptions{}).pruned, 1u);
  // With screen-size pruning: Gaussian 0 (radius 50 px > 20) also goes.
  EXPECT_EQ(d2.densify_and_prune(copy, adam_copy, 1.0f, true, rng, DensifyOptions{}).pruned, 3u);  // 0, 1 (0.5 > 0.1 x extent), 2
}

TEST(Densify, AccumulatesNdcGradientOfVisibleGaussians) {
  DensityController d;
  RenderOutput out;
  out.radii = {3, 0};
  GaussianGradients g;
  g.means2d = {0.02f, 0.0f, 5.0f, 5.0f};
  d.accumulate(out, g, 100, 50);
  d.accumulate(out, g, 100, 50);
  EXPECT_NEAR(d.grad_accum[0], 2 * 0.02f * 50.0f, 1e-6);  // pixel gradient x width/2
  EXPECT_EQ(d.visible_count[0], 2.0f);
  EXPECT_EQ(d.grad_accum[1], 0.0f);  // culled: not counted
  EXPECT_EQ(d.max_radius[0], 3.0f);
}

TEST(Densify, OpacityResetCapsAndClearsMoments) {
  Fixture f;
  for (float& x : f.adam.m.opacities) x = 1;
  DensityController::reset_opacity(f.model, f.adam);
  for (size_t i = 0; i < f.model.size(); ++i) {
    const float o = 1 / (1 + std::exp(-f.model.opacities[i]));
    EXPECT_LE(o, 0.0100001f);
    EXPECT_EQ(f.adam.m.opacities[i], 0.0f);
  }
  EXPECT_NEAR(1 / (1 + std::exp(-f.model.opacities[2])), 0.001f, 1e-7);  // lower ones stay
}

TEST(Densify, RespectsGaussianCap) {
  Fixture f;
  DensifyOptions o;
  o.max_gaussians = 4;
  Rng rng(1);
  const auto counts = f.density.densify_and_prune(f.model, f.adam, 1.0f, false, rng, o);
  EXPECT_EQ(counts.cloned + counts.split, 0u);
}

}  // namespace
}  // namespace sp

namespace sp {
namespace {

TEST(Densify, OpacityDecayMultipliesEveryOpacity) {
  GaussianModel m;
  m.sh_degree = 0;
  m.resize(5);
  const float logits[] = {-8.0f, -1.0f, 0.0f, 2.0f, 9.0f};
  for (int i = 0; i < 5; ++i) m.opacities[size_t(i)] = logits[i];
  DensityController::decay_opacity(m, 0.9f);
  for (int i = 0; i < 5; ++i) {
    const double before = 1.0 / (1.0 + std::exp(-double(logits[i])));
    const double after = 1.0 / (1.0 + std::exp(-double(m.opacities[size_t(i)])));
    EXPECT_NEAR(after, 0.9 * before, 1e-6 * before + 1e-7) << i;
  }
}

}  // namespace
}  // namespace sp
