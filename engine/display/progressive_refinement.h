#pragma once
// Progressive refinement for the viewer's CPU drawing path (docs/viewer.md, "CPU drawing"):
// while the view moves, render at a reduced scale of the window chosen so a frame fits a
// target time; once the view rests, render full resolution once; while nothing changes,
// render nothing (the last frame stays on screen). Pure logic, no clocks: the caller passes
// the times it measured, so tests can drive it with made-up numbers.
#include <span>

namespace sp {

// The scales a moving view may be rendered at (of the window's width and height), largest
// first. Below 1/4 the picture no longer tells the scene apart.
std::span<const float> moving_scale_ladder();

// The scale for the next moving frame, given that the last frame took `frame_ms` at
// `current_scale` and the goal is `target_ms`. Cost is taken to grow with the pixel count
// (scale²): the largest ladder scale predicted to fit is chosen; a step up needs a 25%
// margin, so a frame time near the target does not flip between two scales. Too slow even at
// the smallest scale: the smallest. Non-positive or non-finite times keep the scale.
float next_moving_scale(float current_scale, double frame_ms, double target_ms);

// What the CPU path does with one frame.
struct RefinementStep {
  bool render = false;  // false: keep the last frame
  float scale = 1.0f;   // of the window, when rendering
};

class ProgressiveRefinement {
 public:
  // `target_ms`: frame time to keep while moving; `rest_ms`: how long the view must stay
  // still before the full-resolution frame (a drag that pauses for a frame stays coarse).
  explicit ProgressiveRefinement(double target_ms = 50.0, double rest_ms = 100.0)
      : target_ms_(target_ms), rest_ms_(rest_ms) {}

  // `view_changed`: the camera or a setting differs from the last rendered frame;
  // `ms_since_change`: how long the view has been as it is now; `force_full`: this frame must
  // be full resolution (screenshots, the first frame, a resized window).
  RefinementStep next(bool view_changed, double ms_since_change, bool force_full) const;
  // Reports the frame rendered for `step` and how long it took.
  void rendered(const RefinementStep& step, double ms);

  // Drop the cached frame (e.g. the window was resized): the next step renders.
  void invalidate() { have_frame_ = false; }
  // Off: every rendered frame is full resolution (benchmarks, users who prefer it).
  void set_enabled(bool on) { enabled_ = on; }
  bool enabled() const { return enabled_; }
  void set_target_ms(double ms) { target_ms_ = ms; }
  double target_ms() const { return target_ms_; }
  float moving_scale() const { return moving_scale_; }
  float last_scale() const { return last_scale_; }

 private:
  double target_ms_, rest_ms_;
  bool enabled_ = true;
  bool have_frame_ = false;
  float last_scale_ = 1.0f;    // of the frame on screen
  float moving_scale_ = 0.5f;  // adapted from every measured frame
};

}  // namespace sp
