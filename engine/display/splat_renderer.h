#pragma once
// Headless Vulkan rendering of a Gaussian model: the splat pipeline (docs/viewer.md) into an
// offscreen float image, copied back to the host. Computes the same image as the CPU tile
// rasterizer's forward colour and alpha (tests/display compare them by PSNR); no depth,
// extras or backward pass. `sparsplat render --backend vulkan` uses it.
#include <cstdint>
#include <memory>

#include "engine/core/camera.h"
#include "engine/core/image.h"
#include "engine/display/vulkan_device.h"
#include "engine/render/rasterizer.h"
#include "engine/scene/gaussian_model.h"

namespace sp {

struct SplatRender {
  Image color;             // 3 channels, over options.background
  Image alpha;             // 1 channel: 1 − final transmittance
  uint32_t visible = 0;    // splats drawn
  double gpu_seconds = 0;  // submit to fence, readback excluded
  // GPU timestamps of the pipeline's stages (ms; zeros without timestamp support).
  double project_ms = 0, sort_ms = 0, draw_ms = 0;
};

class SplatRenderer {
 public:
  explicit SplatRenderer(VulkanDevice& device);
  ~SplatRenderer();
  // Uploads the model (kept until the next call).
  void set_model(const GaussianModel& model);
  // One view; options.sh_degree is clamped to the model's, extras are ignored.
  SplatRender render(const Camera& camera, const RenderOptions& options, float splat_scale = 1.0f);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sp
