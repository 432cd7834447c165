#pragma once
// Headless Vulkan rendering of Gaussians: the splat pipeline (docs/viewer.md) into an
// offscreen float image, copied back to the host. Computes the same image as the CPU tile
// rasterizer's forward colour, alpha and (on request) depth (tests/display compare them by
// PSNR); no extras, no radii, no backward pass. `sparsplat render --backend vulkan` uses it;
// the Rasterizer interface over it is make_vulkan_rasterizer() (vulkan_rasterizer.h).
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/core/camera.h"
#include "engine/core/image.h"
#include "engine/display/vulkan_device.h"
#include "engine/render/rasterizer.h"
#include "engine/model/gaussian_model.h"

namespace sp {

struct SplatRender {
  Image color;             // 3 channels, over options.background
  Image alpha;             // 1 channel: 1 − final transmittance
  Image depth;             // 1 channel: Σ z α T (view-space z), only when asked for
  uint32_t visible = 0;    // splats drawn
  double gpu_seconds = 0;  // submit to fence, readback excluded
  // GPU timestamps of the pipeline's stages (ms; zeros without timestamp support).
  double project_ms = 0, sort_ms = 0, draw_ms = 0;
};

// What shaders/project.comp computed for one Gaussian (shaders/splat_probe.glsl's
// ProbeRecord, byte for byte): the hook that pins the GLSL projection and tile bounds to
// engine/render/project.h and tile_bounds.h (tests/display/test_projection_pin.cpp).
struct SplatProbe {
  int status = 0;    // 0: culled by the projection (near plane, Σ2D not positive definite, not
                     // finite); else int(Footprint) of tile_bounds.h: 1 off the image, 2 faint, 3 drawn
  int radius = 0;    // screen radius (set from the radius step on)
  int slot = -1;     // its splat record when drawn
  int unused0 = 0;
  int tiles[4]{};    // tx0, tx1, ty0, ty1 (SplatFootprintT::tiles)
  int pixels[4]{};   // col0, col1, row0, row1 (inclusive)
  int rect[4]{};     // the quad's pixels [x0, x1) x [y0, y1) (footprint_pixels(); drawn only)
  float mean[2]{};   // mean2d, pixels
  float depth = 0;   // view-space z
  float q_max = 0;
  float cov[3]{};    // Σ2D a, b, c (low-pass included)
  float opacity = 0;
  float conic[3]{};
  float unused1 = 0;
};
// The shader's constants as it reads them (shaders/raster_constants.glsl, frame.limits).
struct SplatProbeConstants {
  int tile_size = 0;
  float cull_margin = 0, min_alpha_reciprocal = 0, min_alpha = 0, max_alpha = 0, far_exponent = 0,
        covariance_blur = 0;
  float lim_x = 0, lim_y = 0;  // 1.3 tan(fov/2) as pushed for this camera
};

class SplatRenderer {
 public:
  explicit SplatRenderer(VulkanDevice& device);
  ~SplatRenderer();
  // Uploads the model (kept until the next call).
  void set_model(const GaussianModel& model);
  // Uploads from a view of host arrays (copied now: later changes to them are not seen
  // until the next call); extras are ignored. Same checks as set_model except NaN/Inf.
  void set_params(const GaussianParams& params);
  // One view; options.sh_degree is clamped to the model's, extras are ignored. `with_depth`
  // draws the splats a second time for SplatRender::depth.
  SplatRender render(const Camera& camera, const RenderOptions& options, float splat_scale = 1.0f,
                     bool with_depth = false);
  // Test hook: the projection pass alone, returning what it computed for every Gaussian.
  std::vector<SplatProbe> probe(const Camera& camera, const RenderOptions& options,
                                SplatProbeConstants* constants = nullptr);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sp
