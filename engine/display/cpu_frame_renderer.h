#pragma once
// The viewer's CPU drawing path (docs/viewer.md, "CPU drawing"): the engine's tile
// rasterizer (multi-threaded forward pass, engine/render) renders the view at a scale of the
// window, and the colour is upscaled (bilinear) into window-sized RGBA8 pixels that the
// viewer uploads and composites like the Vulkan splat target (cpu_frame_texture_vk.h). On a
// machine whose only Vulkan device is a CPU this is 3-5x faster than lavapipe
// (bench/RESULTS.md). No Vulkan types here.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include <glm/glm.hpp>

#include "engine/core/camera.h"
#include "engine/model/gaussian_model.h"

namespace sp {

struct CpuFrameSettings {
  int sh_degree = 3;            // clamped to the model's
  float splat_scale = 1.0f;     // multiplies every Gaussian's scale, as the Vulkan path's slider
  glm::vec3 background{0.0f};   // composited by the rasterizer (alpha is then 1 everywhere)
  float near_plane = 0.2f;
};

// Bilinear upscale of an RGB float image (src_w x src_h, values clamped to [0, 1]) into
// dst_w x dst_h RGBA8 (alpha 255). Pixel centres align: destination x samples the source at
// (x + 0.5) * src_w / dst_w - 0.5, clamped to the edge, which is where Camera::resized puts
// that ray. Same size: each value is round(255 v), as PNGs and UNORM targets store it.
void upscale_to_rgba8(const float* rgb, int src_w, int src_h, int dst_w, int dst_h, uint8_t* rgba);

class CpuFrameRenderer {
 public:
  // Keeps a reference to `model`: it must outlive the renderer. Language extras are not drawn.
  explicit CpuFrameRenderer(const GaussianModel& model);
  ~CpuFrameRenderer();
  CpuFrameRenderer(const CpuFrameRenderer&) = delete;
  CpuFrameRenderer& operator=(const CpuFrameRenderer&) = delete;

  // Renders `window_camera` at `scale` (0 < scale <= 1) of its size and writes its width x
  // height RGBA8 pixels into `rgba` (4 * width * height bytes).
  void render(const Camera& window_camera, float scale, const CpuFrameSettings& settings, uint8_t* rgba);

  // The size rendered at `scale` of a window_w x window_h window (at least 1 x 1).
  static glm::ivec2 scaled_size(int window_w, int window_h, float scale);
  // Gaussians the last render projected into the image (radius > 0).
  size_t last_visible() const { return last_visible_; }
  // Threads the rasterizer spreads its tiles over (OpenMP's).
  static int threads();

 private:
  struct State;
  const GaussianModel& model_;
  std::unique_ptr<State> state_;
  size_t last_visible_ = 0;
};

}  // namespace sp
