#pragma once
// The rasterizer contract. Backends: the CPU reference (make_cpu_rasterizer(), below) and
// CUDA (make_cuda_rasterizer(), cuda/cuda_rasterizer.h) implement all of it; the Vulkan
// renderer (make_vulkan_rasterizer(), engine/display/vulkan_rasterizer.h) implements forward
// only: colour, alpha and depth, no extras and no radii, and its backward throws. Every
// backend's tile and ellipse bounds come from tile_bounds.h (the GLSL copy is pinned to it
// by tests/display/test_projection_pin.cpp). See docs/rasterizer.md for the pipeline.
//
// forward: project the Gaussians (EWA splatting, INRIA conventions), bin them into 16x16
// tiles, sort by depth, and alpha-blend front to back:
//   colour  C = sum_i c_i a_i T_i + T_final * background
//   depth   D = sum_i z_i a_i T_i          (view-space z; divide by alpha for the mean depth)
//   alpha   A = 1 - T_final
//   extras  F = sum_i f_i a_i T_i          (E per-Gaussian channels, no background)
// backward: given dL/d(each output image), the gradients of L with respect to every input
// array, plus dL/d(projected 2D mean) in pixels, which densification accumulates.
#include <cstddef>
#include <memory>
#include <vector>

#include <glm/glm.hpp>

#include "engine/core/camera.h"
#include "engine/core/image.h"
#include "engine/model/gaussian_model.h"

namespace sp {

// Non-owning view of the Gaussian arrays (layout as in GaussianModel). The pointers live
// where the backend computes: host memory for the CPU rasterizer, device memory for CUDA.
template <class T>
struct GaussianParamsT {
  size_t count = 0;
  int sh_coeffs = 1;  // K of the sh array as stored (>= (active degree + 1)^2)
  int extra_channels = 0;
  const T* means = nullptr;
  const T* log_scales = nullptr;
  const T* rotations = nullptr;
  const T* opacities = nullptr;  // logits
  const T* sh = nullptr;
  const T* extras = nullptr;
};
using GaussianParams = GaussianParamsT<float>;
GaussianParams params_of(const GaussianModel& model);

struct RenderOptions {
  int sh_degree = 3;                    // active SH degree (<= the stored degree)
  glm::vec3 background{0.0f};           // composited behind the Gaussians in `color`
  float near_plane = 0.2f;              // Gaussians with view-space z <= near are culled
};

// Backend-private data the backward pass reuses; each backend derives its own.
struct RenderState {
  virtual ~RenderState() = default;
};

struct RenderOutput {
  Image color;                 // 3 channels
  Image depth;                 // 1 channel (alpha-weighted view-space z)
  Image alpha;                 // 1 channel
  Image extras;                // E channels (empty when E = 0)
  std::vector<int> radii;      // per Gaussian: screen-space radius in pixels, 0 if culled
  std::shared_ptr<RenderState> state;
};

// dL/d(outputs); a null pointer means that output does not enter the loss.
struct OutputGradients {
  const Image* color = nullptr;
  const Image* depth = nullptr;
  const Image* alpha = nullptr;
  const Image* extras = nullptr;
};

// dL/d(inputs), each sized like the matching GaussianModel array; means2d is N x 2.
template <class T>
struct GaussianGradientsT {
  std::vector<T> means, log_scales, rotations, opacities, sh, extras, means2d;
  // Every array sized for n Gaussians with k SH coefficients and e extra channels.
  void resize(size_t n, int k, int e) {
    means.resize(n * 3);
    log_scales.resize(n * 3);
    rotations.resize(n * 4);
    opacities.resize(n);
    sh.resize(n * size_t(k) * 3);
    extras.resize(n * size_t(e));
    means2d.resize(n * 2);
  }
};
using GaussianGradients = GaussianGradientsT<float>;

class Rasterizer {
 public:
  virtual ~Rasterizer() = default;
  virtual const char* name() const = 0;
  virtual RenderOutput forward(const Camera& camera, const GaussianParams& params, const RenderOptions& options) = 0;
  // `forward_output` must come from forward() with the same camera, params and options.
  // Overwrites (resizes) every array of `grads`.
  virtual void backward(const Camera& camera, const GaussianParams& params, const RenderOptions& options,
                        const RenderOutput& forward_output, const OutputGradients& output_grads,
                        GaussianGradients& grads) = 0;
};

// Every backend's forward() starts with this: BadInput-free sanity of what the trainer
// hands over (an internal error names `backend` and what is wrong). `max_count` is the
// backend's index limit.
void check_render_inputs(const char* backend, const Camera& camera, size_t count, int sh_coeffs, int extra_channels,
                         bool have_arrays, bool have_extras, size_t max_count);
template <class T>
void check_render_inputs(const char* backend, const Camera& camera, const GaussianParamsT<T>& params,
                         size_t max_count) {
  check_render_inputs(backend, camera, params.count, params.sh_coeffs, params.extra_channels,
                      params.means && params.log_scales && params.rotations && params.opacities && params.sh,
                      params.extras != nullptr, max_count);
}

// Every backend's backward() checks each dL/d(output) image with this: null passes; else an
// internal error naming `backend` unless it is width x height x channels.
void check_gradient_image(const char* backend, const Image* image, int width, int height, int channels,
                          const char* what);

// The multi-threaded CPU tile rasterizer (engine/render/tile_rasterizer_cpu.cpp).
std::unique_ptr<Rasterizer> make_cpu_rasterizer();

}  // namespace sp
