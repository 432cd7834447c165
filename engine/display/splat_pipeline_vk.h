#pragma once
// Display-internal: one frame of the splat pipeline (docs/viewer.md), shared by the headless
// SplatRenderer and the viewer:
//   clear count → project.comp (cull, EWA projection, SH colour, depth key; appends visible
//   splats) → prepare_indirect.comp → radix sort by depth → instanced quads, front to back,
//   "under" blending into a float target (rgb = Σ c α T, a = 1 − T), drawn indirectly.
// The background is composited afterwards (composite.frag in the viewer, on the CPU headless).
// Extra passes for the headless renderer: a second draw with depth as the colour (depth
// output) and, for tests, the projection pass alone with its probe (splat_probe.glsl).
#include <memory>
#include <vector>

#include "engine/core/camera.h"
#include "engine/display/radix_sort_vk.h"
#include "engine/display/splat_renderer.h"  // SplatProbe
#include "engine/model/gaussian_model.h"
#include "engine/render/rasterizer.h"

namespace sp {

struct SplatSettings {
  int sh_degree = 3;         // clamped to the model's
  float splat_scale = 1.0f;  // multiplies every Gaussian's scale (viewer slider)
  float near_plane = 0.2f;
};

// A colour target the splat pass draws into (and its framebuffer).
struct SplatTarget {
  VkDevice device = VK_NULL_HANDLE;
  VkImage image = VK_NULL_HANDLE;
  VkDeviceMemory memory = VK_NULL_HANDLE;
  VkImageView view = VK_NULL_HANDLE;
  VkFramebuffer framebuffer = VK_NULL_HANDLE;
  int width = 0, height = 0;
  ~SplatTarget() { reset(); }
  void reset();
};

class SplatPipeline {
 public:
  explicit SplatPipeline(VulkanDevice::Impl& dev);
  ~SplatPipeline();
  SplatPipeline(const SplatPipeline&) = delete;
  SplatPipeline& operator=(const SplatPipeline&) = delete;

  // Uploads the Gaussians (waits). BadInput beyond the dispatch limit or (set_model) for
  // NaN/Inf or mis-sized arrays. set_params copies from the host arrays of the view (extras
  // ignored); buffers are reused while the count and SH size stay the same.
  void set_model(const GaussianModel& model);
  void set_params(const GaussianParams& params);
  size_t size() const { return count_; }
  int model_sh_degree() const { return sh_degree_; }

  VkFormat target_format() const { return format_; }
  VkRenderPass render_pass() const { return render_pass_; }
  // (Re)creates `target` at the size (usage: colour attachment + sampled + transfer source).
  void make_target(SplatTarget& target, int width, int height);
  // Records a whole frame into `target`, which must have the camera's size. The target ends
  // in VK_IMAGE_LAYOUT_GENERAL, its writes visible to transfer and fragment-shader reads.
  void record(VkCommandBuffer cmd, const SplatTarget& target, const Camera& camera, const SplatSettings& settings);
  // After record() in the same command buffer: draws the same sorted splats again into
  // `target` (same size) with view-space depth as the red colour, so its red channel holds
  // Σ z α T and its alpha 1 − T.
  void record_depth(VkCommandBuffer cmd, const SplatTarget& target, const Camera& camera, const SplatSettings& settings);
  // Test hook: runs the projection pass alone with the probe on and returns what it computed
  // for every Gaussian (and the shader's constants). Waits.
  std::vector<SplatProbe> probe(const Camera& camera, const SplatSettings& settings, SplatProbeConstants* constants);
  // The last frame's visible splat count (reads 4 bytes back; call after the frame finished).
  uint32_t visible_count();
  // For a render loop: record a copy of the count into a mapped buffer at the end of a frame,
  // then read it once that frame's fence has signalled (no extra wait).
  void record_count_copy(VkCommandBuffer cmd);
  uint32_t copied_count() const;
  // GPU time of the last finished frame's stages in ms: {project, sort, draw}; zeros when
  // the queue has no timestamps.
  struct StageTimes {
    double project_ms = 0, sort_ms = 0, draw_ms = 0;
  };
  StageTimes stage_times();

 private:
  struct FrameConstants;
  FrameConstants frame_constants(const Camera& camera, const SplatSettings& settings, uint32_t flags) const;
  void record_project(VkCommandBuffer cmd, const FrameConstants& fc);
  void record_draw(VkCommandBuffer cmd, const SplatTarget& target, const FrameConstants& fc);

  VulkanDevice::Impl& dev_;
  VkFormat format_ = VK_FORMAT_R32G32B32A32_SFLOAT;
  VkDescriptorSetLayout set_layout_ = VK_NULL_HANDLE;
  VkDescriptorPool pool_ = VK_NULL_HANDLE;
  VkDescriptorSet set_ = VK_NULL_HANDLE;
  ComputePipeline project_;
  VkPipelineLayout draw_layout_ = VK_NULL_HANDLE;
  VkPipeline draw_ = VK_NULL_HANDLE;
  VkRenderPass render_pass_ = VK_NULL_HANDLE;
  std::unique_ptr<RadixSort> sort_;
  GpuBuffer means_, log_scales_, rotations_, opacities_, sh_, splats_, keys_, values_, counters_, readback_;
  GpuBuffer probe_;  // binding 9: a placeholder, or 1 + count records while probe() runs
  VkQueryPool timestamps_ = VK_NULL_HANDLE;  // 4 per frame: start, projected, sorted, drawn
  size_t count_ = 0;
  int sh_degree_ = 0, sh_coeffs_ = 1;
};

}  // namespace sp
