#include "engine/train/adam.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "engine/core/error.h"
#include "engine/core/simd_dispatch.h"

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
// n parameters with one step size: p -= step_size * m / (sqrt(v) / sqrt(bc2) + eps), the
// bias corrections folded into the step size (PyTorch's formulation, so results follow
// INRIA's training closely). A straight loop the compiler vectorizes, with an AVX2 copy
// (adam.cpp is built with -fno-math-errno so that sqrt vectorizes; the results are the
// scalar ones bit for bit).
// Returns a non-zero word when an updated parameter is not finite: the poison check of
// every step, fused here because this loop already holds each value (a separate pass would
// read the arrays from memory again).
SP_VECTOR_CLONES uint32_t adam_span(float* __restrict p, const float* __restrict g, float* __restrict m, float* __restrict v,
                          size_t n, float step_size, float inv_sqrt_bc2, float b1, float b2, float eps) {
  uint32_t bad = 0;
  for (size_t i = 0; i < n; ++i) {
    const float gi = g[i];
    const float mi = b1 * m[i] + (1 - b1) * gi;
    const float vi = b2 * v[i] + (1 - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    const float pi = p[i] - step_size * mi / (std::sqrt(vi) * inv_sqrt_bc2 + eps);
    p[i] = pi;
    // A NaN or infinite gradient makes the moments and so the parameter non-finite too.
    uint32_t bits;
    std::memcpy(&bits, &pi, 4);
    bad |= uint32_t((bits & 0x7f800000u) == 0x7f800000u);
  }
  return bad;
}

void check_sizes(const std::vector<float>& p, const std::vector<float>& g, const std::vector<float>& m,
                 const std::vector<float>& v) {
  if (g.size() != p.size() || m.size() != p.size() || v.size() != p.size())
    throw_internal("Adam: gradient/moment size does not match the parameter");
}

struct StepSize {
  float step, inv_sqrt_bc2;
};
StepSize step_size(float lr, float b1, float b2, long step) {
  const float bc1 = 1.0f - std::pow(b1, float(step)), bc2 = 1.0f - std::pow(b2, float(step));
  return {lr / bc1, 1.0f / std::sqrt(bc2)};
}

// One array at one learning rate, in blocks across the threads. False when a result is not finite.
bool adam_array(std::vector<float>& p, const std::vector<float>& g, std::vector<float>& m, std::vector<float>& v,
                float lr, float b1, float b2, float eps, long step) {
  check_sizes(p, g, m, v);
  const StepSize s = step_size(lr, b1, b2, step);
  constexpr size_t kBlock = 4096;
  const long blocks = long((p.size() + kBlock - 1) / kBlock);
  uint32_t bad = 0;
#pragma omp parallel for schedule(static) reduction(| : bad)
  for (long b = 0; b < blocks; ++b) {
    const size_t i = size_t(b) * kBlock, n = std::min(kBlock, p.size() - i);
    bad |= adam_span(p.data() + i, g.data() + i, m.data() + i, v.data() + i, n, s.step, s.inv_sqrt_bc2, b1, b2, eps);
  }
  return bad == 0;
}

// Rows of `width` values of which the first `used` are updated, the first `head` of them at
// lr_head and the rest at lr_tail (the SH DC and rest groups). False when a result is not finite.
bool adam_rows(std::vector<float>& p, const std::vector<float>& g, std::vector<float>& m, std::vector<float>& v,
               size_t width, size_t used, size_t head, float lr_head, float lr_tail, float b1, float b2, float eps,
               long step) {
  check_sizes(p, g, m, v);
  if (width == 0) return true;
  const StepSize sh = step_size(lr_head, b1, b2, step), st = step_size(lr_tail, b1, b2, step);
  const long rows = long(p.size() / width);
  uint32_t bad = 0;
#pragma omp parallel for schedule(static) reduction(| : bad)
  for (long r = 0; r < rows; ++r) {
    const size_t i = size_t(r) * width;
    bad |= adam_span(p.data() + i, g.data() + i, m.data() + i, v.data() + i, std::min(head, used), sh.step,
                     sh.inv_sqrt_bc2, b1, b2, eps);
    if (used > head)
      bad |= adam_span(p.data() + i + head, g.data() + i + head, m.data() + i + head, v.data() + i + head,
                       used - head, st.step, st.inv_sqrt_bc2, b1, b2, eps);
  }
  return bad == 0;
}
}  // namespace

const char* Adam::step(GaussianModel& model, const GaussianGradients& grads, AdamState& s,
                       const LearningRates& lr, int active_sh_degree) const {
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
  const size_t active =
      active_sh_degree < 0 ? row : std::min(row, size_t(sh_coeff_count(std::min(active_sh_degree, 3))) * 3);
  note(adam_rows(model.sh, grads.sh, s.m.sh, s.v.sh, row, active, std::min<size_t>(3, row), lr.sh_dc, lr.sh_rest,
                 beta1, beta2, eps, s.step),
       "sh");
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
