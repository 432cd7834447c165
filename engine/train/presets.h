#pragma once
// Training presets: the sparse-view preset (docs/sparse_view.md "Regularizers") and the
// settings a user overrides on top of it, as plain values the front doors parse into.
#include <cstddef>
#include <string>
#include <vector>

#include "engine/core/camera.h"

#include "engine/train/train_options.h"

namespace sp {

// How the photos were taken, as far as the preset adapts to it.
struct CaptureTraits {
  bool composited_photos = false;  // transparent photos composited on the render background (Blender)
  bool around_object = false;      // cameras around one object (DTU, Blender), not forward-facing (LLFF)
};

// Two train cameras' optical axes at least this far apart (degrees) make a rig around an
// object: LLFF fern's 3 train views are 2-7 degrees apart (all 20: 19), DTU's 35-71.
constexpr float kAroundObjectDegrees = 25.0f;
CaptureTraits capture_traits(const std::vector<Camera>& train_cameras, bool composited_photos);

// The sparse-view preset for `train_views` views (<= 9): the regularizers that measurably
// helped (docs/sparse_view.md) and the densification thresholds that keep 3-view runs from
// overgrowing, plus, `around_object`, the depth terms that pay on object rigs only; for more
// views, `options` unchanged.
TrainOptions sparse_view_defaults(TrainOptions options, int train_views, bool around_object = false);

// The regularizer settings of a reconstruction. "auto" / negative values: the preset's
// (sparse-view preset for <= 9 train views, plain 3DGS otherwise).
struct RegularizerConfig {
  std::string preset = "auto";       // auto | off: off = plain 3DGS whatever the view count
  std::string co_training = "auto";  // auto | on | off
  std::string unpooling = "auto";    // auto | on | off
  std::string random_background = "auto";  // auto | on | off: a random colour behind the Gaussians each step
  int pseudo_views = -1;
  float co_regularization = -1, opacity_entropy = -1, scale_penalty = -1, anisotropy_penalty = -1,
        depth_smoothness = -1, depth_curvature = -1, densify_grad_threshold = -1, max_angular_scale = -1, backdrop_alpha = -1,
        opacity_decay = -1, depth_prior = -1, binocular = -1, binocular_from = -1, binocular_shift = -1,
        start_box_margin = -1, pseudo_tilt = -1, pseudo_resolution = -1;
  int min_views_seen = -1, binocular_every = -1, pseudo_every = -1;
};

// Whether the sparse-view preset governs a run with `train_views` views.
bool sparse_view_preset_applies(const RegularizerConfig& config, size_t train_views);

// Iterations when none are given: INRIA's 3000 for dense captures; 1000 under the
// sparse-view preset, where the protocol tables were measured (docs/sparse_view.md).
long default_iterations(const RegularizerConfig& config, size_t train_views);

// Applies the preset for `train_views` (unless preset "off"), then each explicit setting.
// `capture.composited_photos`: the photos were transparent and composited on the colour the renders
// use as background (Blender); the preset's random background then stays off unless asked
// for, since the Gaussians would have to paint that colour (lego, 8 views: 17.5 dB against
// 22.1). Returns a one-line summary of what is on, for the log and metrics.json. BadInput for
// an unknown preset or on/off value.
std::string apply_regularizers(const RegularizerConfig& config, size_t train_views, const CaptureTraits& capture,
                               TrainOptions& options);

}  // namespace sp
