#pragma once
// Sparse-view regularizers on the Gaussians and on rendered depth, each a value with its
// exact gradient (templated on the scalar so tests check them against finite differences in
// double). Every function returns the term's unweighted value and ADDS weight * d(term)/d(input)
// into `grad` when it is non-null, so several terms share one gradient buffer.
#include <cstddef>
#include <vector>

#include <glm/vec3.hpp>

namespace sp {

// Opacity entropy: mean over the N Gaussians of H(o) = -o ln o - (1 - o) ln(1 - o),
// o = sigmoid(logit). Pushes opacities toward 0 or 1, so half-transparent floaters either
// become solid (and are corrected by the photometric loss) or vanish (and are pruned).
// dH/dlogit = -logit * o (1 - o).
template <class T>
double opacity_entropy(const T* logits, size_t n, T* grad, T weight);

// Scale penalty: mean over Gaussians of sum over axes of max(0, exp(log_scale) - limit) / limit.
// Keeps Gaussians from growing into large blurry splats that cover unseen space.
template <class T>
double scale_penalty(const T* log_scales, size_t n, T limit, T* grad, T weight);

// Anisotropy penalty: mean over Gaussians of max(0, ln(max scale / min scale) - ln(max_ratio)).
// Needle-like splats fit three photos and break between them.
template <class T>
double anisotropy_penalty(const T* log_scales, size_t n, T max_ratio, T* grad, T weight);

// Edge-aware depth smoothness on a width x height depth image:
//   mean over horizontal and vertical neighbour pairs (a, b) of
//   exp(-gamma * mean_c |I_a - I_b|) * |D_a - D_b| * depth_scale,
// with I the 3-channel guide image (the photo, or the render at a pseudo view; constant).
// depth_scale makes the term scale-free (the trainer passes 1 / the mean rendered depth).
template <class T>
double edge_aware_depth_smoothness(int width, int height, const T* depth, const T* guide, T depth_scale, T gamma,
                                   T* grad, T weight);

// Edge-aware depth curvature, the second-order counterpart: mean over horizontal and
// vertical runs of three pixels (a, b, c) of
//   exp(-gamma * (mean_c |I_a - I_b| + mean_c |I_b - I_c|)) * |D_a - 2 D_b + D_c| * depth_scale.
// Zero for any depth that is linear along rows and columns, so a tilted textureless surface
// (a table, a wall) is pulled towards a plane instead of towards constant depth, which the
// first-order term prefers.
template <class T>
double edge_aware_depth_curvature(int width, int height, const T* depth, const T* guide, T depth_scale, T gamma,
                                  T* grad, T weight);

// Masked alpha penalty: mean over the pixels where mask > 0.5 of alpha², on an image of
// n pixels (the rendered alpha). Makes the dark backdrop of a DTU-style rig transparent
// (engine/train/backdrop.h) instead of a sheet near the cameras. d/dalpha = 2 alpha / count.
template <class T>
double masked_alpha_penalty(const T* alpha, const T* mask, size_t n, T* grad, T weight);

// Depth prior from plane-sweep stereo (or any per-pixel depth; target 0 = none there):
//   mean over the pixels with a target of |D - alpha * z| / z_mean,
// D the rendered alpha-weighted depth, z the target, z_mean the mean target (scale-free).
// Adds to grad_depth and grad_alpha (either may be null). The kink at D = alpha z has
// derivative 0 there.
template <class T>
double depth_prior_l1(const T* depth, const T* alpha, const T* target, size_t n, T* grad_depth, T* grad_alpha,
                      T weight);

// Angular scale cap (a projection applied after each optimizer step, not a loss): clamps
// every axis of Gaussian i to max_ratio x its distance to the nearest of `centers` (the
// train cameras). With 3 views the photometric loss lets a few Gaussians grow to cover
// textureless regions (DTU's white table): one splat half the object's size fits every
// train view and covers the object from the others. A mean scale penalty hardly pulls a
// single such splat; a cap in view angle removes it and is scale-free (a distant
// background splat may be as large as its distance allows). Returns the number of clamped
// Gaussians. means: n x 3, log_scales: n x 3.
size_t clamp_angular_scales(const float* means, float* log_scales, size_t n, const std::vector<glm::vec3>& centers,
                            float max_ratio);

}  // namespace sp
