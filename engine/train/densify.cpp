#include "engine/train/densify.h"

#include <algorithm>
#include <cmath>

#include <glm/gtc/quaternion.hpp>

#include "engine/core/error.h"

namespace sp {

void DensityController::resize(size_t n) {
  grad_accum.assign(n, 0.0f);
  visible_count.assign(n, 0.0f);
  max_radius.assign(n, 0.0f);
}

void DensityController::accumulate(const RenderOutput& render, const GaussianGradients& grads, int width,
                                   int height) {
  const size_t n = render.radii.size();
  if (grad_accum.size() != n) resize(n);
  // INRIA differentiates with respect to NDC coordinates: d(pixel)/d(ndc) = size / 2.
  const float sx = 0.5f * float(width), sy = 0.5f * float(height);
  for (size_t i = 0; i < n; ++i) {
    if (render.radii[i] <= 0) continue;
    const float gx = grads.means2d[i * 2] * sx, gy = grads.means2d[i * 2 + 1] * sy;
    grad_accum[i] += std::sqrt(gx * gx + gy * gy);
    visible_count[i] += 1.0f;
    max_radius[i] = std::max(max_radius[i], float(render.radii[i]));
  }
}

namespace {
float max_scale(const GaussianModel& m, size_t i) {
  return std::exp(std::max({m.log_scales[i * 3], m.log_scales[i * 3 + 1], m.log_scales[i * 3 + 2]}));
}
float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }
float logit(float p) { return std::log(p / (1.0f - p)); }

// Appends Gaussian i of `model` (and zero moments) to the model itself.
void duplicate(GaussianModel& model, AdamState& adam, size_t i) {
  model.append_from(model, i);
  adam.m.resize(model.size());
  adam.v.resize(model.size());
  // resize() fills new rotations with identity; moments must be zero.
  const size_t last = model.size() - 1;
  for (int k = 0; k < 4; ++k) adam.m.rotations[last * 4 + size_t(k)] = adam.v.rotations[last * 4 + size_t(k)] = 0.0f;
}
}  // namespace

DensityController::Counts DensityController::densify_and_prune(GaussianModel& model, AdamState& adam, float extent,
                                                               bool prune_screen_size, Rng& rng,
                                                               const DensifyOptions& options) {
  Counts counts;
  const size_t n0 = model.size();
  if (grad_accum.size() != n0) resize(n0);
  std::vector<float> mean_grad(n0);
  for (size_t i = 0; i < n0; ++i)
    mean_grad[i] = visible_count[i] > 0 ? grad_accum[i] / visible_count[i] : 0.0f;

  const float dense_limit = options.percent_dense * extent;
  const auto budget_left = [&] { return options.max_gaussians == 0 || model.size() < options.max_gaussians; };

  // Clone: small Gaussians under heavy gradient get an identical copy (which the next steps
  // pull apart). New Gaussians have zero accumulated gradient and are neither split nor pruned
  // for size in this round, exactly as INRIA pads its gradient tensor with zeros.
  for (size_t i = 0; i < n0 && budget_left(); ++i)
    if (mean_grad[i] >= options.grad_threshold && max_scale(model, i) <= dense_limit) {
      duplicate(model, adam, i);
      ++counts.cloned;
    }

  // Split: large Gaussians under heavy gradient become two, sampled from the original's
  // distribution, each 1.6x smaller; the original is removed.
  std::vector<bool> remove(model.size(), false);
  for (size_t i = 0; i < n0 && budget_left(); ++i) {
    if (!(mean_grad[i] >= options.grad_threshold && max_scale(model, i) > dense_limit)) continue;
    const glm::quat q = glm::normalize(glm::quat(model.rotations[i * 4], model.rotations[i * 4 + 1],
                                                 model.rotations[i * 4 + 2], model.rotations[i * 4 + 3]));
    const glm::mat3 R = glm::mat3_cast(q);
    const glm::vec3 s(std::exp(model.log_scales[i * 3]), std::exp(model.log_scales[i * 3 + 1]),
                      std::exp(model.log_scales[i * 3 + 2]));
    for (int copy = 0; copy < 2; ++copy) {
      const glm::vec3 offset = R * glm::vec3(rng.normal(0, s.x), rng.normal(0, s.y), rng.normal(0, s.z));
      duplicate(model, adam, i);
      const size_t j = model.size() - 1;
      for (int d = 0; d < 3; ++d) {
        model.means[j * 3 + size_t(d)] += offset[d];
        model.log_scales[j * 3 + size_t(d)] = std::log(s[d] / 1.6f);
      }
    }
    remove[i] = true;
    ++counts.split;
  }
  remove.resize(model.size(), false);

  // Prune: nearly transparent, and (after the first opacity reset) huge on screen or in the world.
  std::vector<float> radius = max_radius;
  radius.resize(model.size(), 0.0f);
  std::vector<bool> keep(model.size());
  for (size_t i = 0; i < model.size(); ++i) {
    bool drop = remove[i] || sigmoid(model.opacities[i]) < options.min_opacity;
    if (prune_screen_size)
      drop = drop || radius[i] > options.max_screen_radius || max_scale(model, i) > options.max_world_scale * extent;
    keep[i] = !drop;
    if (drop && !remove[i]) ++counts.pruned;
  }
  model.filter(keep);
  adam.m.filter(keep);
  adam.v.filter(keep);
  resize(model.size());
  return counts;
}

void DensityController::reset_opacity(GaussianModel& model, AdamState& adam, float max_opacity) {
  const float cap = logit(max_opacity);
  for (float& o : model.opacities) o = std::min(o, cap);
  std::fill(adam.m.opacities.begin(), adam.m.opacities.end(), 0.0f);
  std::fill(adam.v.opacities.begin(), adam.v.opacities.end(), 0.0f);
}

void DensityController::decay_opacity(GaussianModel& model, float factor) {
  // On the logit: sigmoid(x') = factor * sigmoid(x), x' = log(o' / (1 - o')).
  for (float& x : model.opacities) {
    const float o = std::max(1e-12f, factor / (1.0f + std::exp(-x)));
    x = std::log(o / (1.0f - o));
  }
}

}  // namespace sp
