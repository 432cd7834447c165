// Progressive refinement of the viewer's CPU drawing path (progressive_refinement.h).
#include "engine/display/progressive_refinement.h"

#include <array>
#include <cmath>

namespace sp {

namespace {
constexpr std::array<float, 5> kLadder = {1.0f, 0.75f, 0.5f, 0.375f, 0.25f};
constexpr double kStepUpMargin = 0.75;  // a larger scale must be predicted at <= 75% of the target
}  // namespace

std::span<const float> moving_scale_ladder() { return kLadder; }

float next_moving_scale(float current_scale, double frame_ms, double target_ms) {
  if (!(frame_ms > 0.0) || !std::isfinite(frame_ms) || !(target_ms > 0.0) || !(current_scale > 0.0f))
    return current_scale;
  for (float s : kLadder) {
    const double ratio = double(s) / double(current_scale);
    const double predicted = frame_ms * ratio * ratio;
    const double budget = s > current_scale ? kStepUpMargin * target_ms : target_ms;
    if (predicted <= budget) return s;
  }
  return kLadder.back();
}

RefinementStep ProgressiveRefinement::next(bool view_changed, double ms_since_change, bool force_full) const {
  if (!have_frame_ || force_full || !enabled_) {
    // Full resolution unless what is on screen already is the full frame of this view.
    if (have_frame_ && !view_changed && last_scale_ >= 1.0f) return {false, 1.0f};
    return {true, 1.0f};
  }
  if (view_changed) return {true, moving_scale_};
  // Still: refine a coarse frame once the view has rested.
  if (last_scale_ < 1.0f && ms_since_change >= rest_ms_) return {true, 1.0f};
  return {false, last_scale_};
}

void ProgressiveRefinement::rendered(const RefinementStep& step, double ms) {
  if (!step.render) return;
  have_frame_ = true;
  last_scale_ = step.scale;
  moving_scale_ = next_moving_scale(step.scale, ms, target_ms_);
}

}  // namespace sp
