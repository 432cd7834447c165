#include "engine/train/adam.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "engine/core/error.h"

namespace sp {

void AdamState::reset_like(const GaussianModel& model) {
  for (GaussianModel* s : {&m, &v}) {
    s->sh_degree = model.sh_degree;
    s->extra_channels = model.extra_channels;
    s->means.assign(model.means.size(), 0.0f);
    s->log_scales.assign(model.log_scales.size(), 0.0f);
    s->rotations.assign(model.rotations.size(), 0.0f);
    s->opacities.assign(model.opacities.size(), 0.0f);
    s->sh.assign(model.sh.size(), 0.0f);
    s->extras.assign(model.extras.size(), 0.0f);
  }
  step = 0;
}

namespace {
// One array: p -= lr * m_hat / (sqrt(v_hat) + eps), with the bias corrections folded into
// a step size (PyTorch's formulation, so results follow INRIA's training closely).
// Returns false when an updated parameter is not finite: the poison check of every step,
// fused here because this loop already holds each value (a separate pass would read the
// arrays from memory again).
bool adam_array(std::vector<float>& p, const std::vector<float>& g, std::vector<float>& m, std::vector<float>& v,
                float lr, float b1, float b2, float eps, long step, size_t begin = 0, size_t stride = 0,
                size_t width = 0) {
  if (g.size() != p.size() || m.size() != p.size() || v.size() != p.size())
    throw_internal("Adam: gradient/moment size does not match the parameter");
  const float bc1 = 1.0f - std::pow(b1, float(step)), bc2 = 1.0f - std::pow(b2, float(step));
  const float step_size = lr / bc1, inv_sqrt_bc2 = 1.0f / std::sqrt(bc2);
  const long n = long(p.size());
  // stride/width select a sub-range of each row (the SH DC vs rest groups).
  uint32_t bad = 0;
#pragma omp parallel for schedule(static) reduction(| : bad)
  for (long i = 0; i < n; ++i) {
    if (stride) {
      const size_t col = size_t(i) % stride;
      if (col < begin || col >= begin + width) continue;
    }
    const float gi = g[size_t(i)];
    const float mi = b1 * m[size_t(i)] + (1 - b1) * gi;
    const float vi = b2 * v[size_t(i)] + (1 - b2) * gi * gi;
    m[size_t(i)] = mi;
    v[size_t(i)] = vi;
    const float pi = p[size_t(i)] - step_size * mi / (std::sqrt(vi) * inv_sqrt_bc2 + eps);
    p[size_t(i)] = pi;
    // A NaN or infinite gradient makes the moments and so the parameter non-finite too.
    uint32_t bits;
    std::memcpy(&bits, &pi, 4);
    bad |= uint32_t((bits & 0x7f800000u) == 0x7f800000u);
  }
  return bad == 0;
}
}  // namespace

const char* Adam::step(GaussianModel& model, const GaussianGradients& grads, AdamState& s,
                       const LearningRates& lr) const {
  ++s.step;
  const char* bad = nullptr;
  const auto note = [&](bool finite, const char* group) {
    if (!finite && !bad) bad = group;
  };
  note(adam_array(model.means, grads.means, s.m.means, s.v.means, lr.means, beta1, beta2, eps, s.step), "means");
  note(adam_array(model.log_scales, grads.log_scales, s.m.log_scales, s.v.log_scales, lr.log_scales, beta1, beta2, eps,
                  s.step),
       "scales");
  note(adam_array(model.rotations, grads.rotations, s.m.rotations, s.v.rotations, lr.rotations, beta1, beta2, eps,
                  s.step),
       "rotations");
  note(adam_array(model.opacities, grads.opacities, s.m.opacities, s.v.opacities, lr.opacities, beta1, beta2, eps,
                  s.step),
       "opacities");
  const size_t row = size_t(model.sh_coeffs()) * 3;
  note(adam_array(model.sh, grads.sh, s.m.sh, s.v.sh, lr.sh_dc, beta1, beta2, eps, s.step, 0, row, 3), "sh");
  if (row > 3)
    note(adam_array(model.sh, grads.sh, s.m.sh, s.v.sh, lr.sh_rest, beta1, beta2, eps, s.step, 3, row, row - 3), "sh");
  if (!model.extras.empty())
    note(adam_array(model.extras, grads.extras, s.m.extras, s.v.extras, lr.extras, beta1, beta2, eps, s.step),
         "extras");
  return bad;
}

float exponential_lr(float initial, float final, long step, long max_steps) {
  if (max_steps <= 0) return final;
  const double t = std::clamp(double(step) / double(max_steps), 0.0, 1.0);
  return float(std::exp(std::log(double(initial)) * (1.0 - t) + std::log(double(final)) * t));
}

}  // namespace sp
