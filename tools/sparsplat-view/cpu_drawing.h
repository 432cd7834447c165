#pragma once
// sparsplat-view's CPU drawing path (docs/viewer.md, "CPU drawing"): per frame, decide with
// ProgressiveRefinement whether and at what scale to render (coarse while the view moves,
// full resolution once it rests, nothing while it stays the same), render with the engine's
// tile rasterizer (CpuFrameRenderer) and upload into the image the composite pass samples
// (CpuFrameTexture). The viewer then draws the composite and the ImGui panel as on the
// Vulkan path.
#include <chrono>

#include "engine/display/cpu_frame_renderer.h"
#include "engine/display/cpu_frame_texture_vk.h"
#include "engine/display/progressive_refinement.h"

namespace sp {

class CpuDrawing {
 public:
  using Clock = std::chrono::steady_clock;
  CpuDrawing(VulkanDevice::Impl& dev, const GaussianModel& model);

  // Between frames (no frame in flight): renders `camera` if the refinement asks for it and
  // says whether it did; then record_upload() must go into this frame's command buffer.
  // `force_full`: this frame must show the full-resolution picture (screenshots).
  bool prepare(const Camera& camera, const CpuFrameSettings& settings, bool force_full, Clock::time_point now);
  void record_upload(VkCommandBuffer cmd) const { texture_.record_upload(cmd); }
  // Drop the picture (e.g. after drawing with Vulkan): the next prepare() renders in full.
  void invalidate() { refinement_.invalidate(); }
  VkImageView view() const { return texture_.view(); }

  ProgressiveRefinement& refinement() { return refinement_; }
  const ProgressiveRefinement& refinement() const { return refinement_; }
  // The last rendered frame: its time (rasterizer + upscale) and scale, Gaussians projected.
  double last_ms() const { return last_ms_; }
  float last_scale() const { return refinement_.last_scale(); }
  size_t last_visible() const { return renderer_.last_visible(); }
  // Mean render time of the frames rendered in the last half second or so (0: none yet).
  double mean_ms() const { return mean_ms_; }
  // Whether the picture on screen is coarser than the window (a refinement is pending).
  bool coarse() const { return refinement_.last_scale() < 1.0f; }
  // Over the whole run: frames rendered, the sums of their scales and render times (summary).
  long rendered_frames() const { return rendered_frames_; }
  double scale_sum() const { return scale_sum_; }
  double ms_sum() const { return ms_sum_; }

 private:
  CpuFrameRenderer renderer_;
  CpuFrameTexture texture_;
  ProgressiveRefinement refinement_;
  bool have_key_ = false;  // the view and settings of the last rendered frame
  Camera camera_;
  CpuFrameSettings settings_;
  Clock::time_point changed_at_ = Clock::now();
  double last_ms_ = 0, mean_ms_ = 0;
  double window_ms_ = 0;  // render times since window_start_
  int window_frames_ = 0;
  Clock::time_point window_start_ = Clock::now();
  long rendered_frames_ = 0;
  double scale_sum_ = 0, ms_sum_ = 0;
};

}  // namespace sp
