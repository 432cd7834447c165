// sparsplat-view's CPU drawing path (cpu_drawing.h).
#include "tools/sparsplat-view/cpu_drawing.h"

namespace sp {

namespace {
bool same_picture(const Camera& a, const Camera& b, const CpuFrameSettings& s, const CpuFrameSettings& t) {
  return a.width == b.width && a.height == b.height && a.fx == b.fx && a.fy == b.fy && a.cx == b.cx &&
         a.cy == b.cy && a.R == b.R && a.t == b.t && s.sh_degree == t.sh_degree && s.splat_scale == t.splat_scale &&
         s.background == t.background && s.near_plane == t.near_plane;
}
}  // namespace

CpuDrawing::CpuDrawing(VulkanDevice::Impl& dev, const GaussianModel& model) : renderer_(model), texture_(dev) {}

bool CpuDrawing::prepare(const Camera& camera, const CpuFrameSettings& settings, bool force_full,
                         Clock::time_point now) {
  if (texture_.width() != camera.width || texture_.height() != camera.height) {
    texture_.resize(camera.width, camera.height);
    refinement_.invalidate();  // a new window size starts with a full-resolution frame
  }
  const bool changed = !have_key_ || !same_picture(camera, camera_, settings, settings_);
  if (changed) changed_at_ = now;
  const RefinementStep step =
      refinement_.next(changed, std::chrono::duration<double, std::milli>(now - changed_at_).count(), force_full);
  if (!step.render) return false;

  const auto t0 = Clock::now();
  renderer_.render(camera, step.scale, settings, texture_.pixels());
  last_ms_ = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  refinement_.rendered(step, last_ms_);
  have_key_ = true;
  camera_ = camera;
  settings_ = settings;
  ++rendered_frames_;
  scale_sum_ += step.scale;
  ms_sum_ += last_ms_;

  window_ms_ += last_ms_;
  ++window_frames_;
  if (now - window_start_ >= std::chrono::milliseconds(500)) {
    mean_ms_ = window_ms_ / window_frames_;
    window_ms_ = 0;
    window_frames_ = 0;
    window_start_ = now;
  } else if (mean_ms_ == 0) {
    mean_ms_ = last_ms_;
  }
  return true;
}

}  // namespace sp
