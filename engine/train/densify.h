#pragma once
// Adaptive density control of INRIA 3DGS: accumulate the view-space positional gradient of
// every visible Gaussian, then clone small ones and split large ones where that gradient is
// high, and prune transparent or oversized ones. Adam moments follow every change.
#include <cstdint>
#include <vector>

#include "engine/core/rng.h"
#include "engine/render/rasterizer.h"
#include "engine/train/adam.h"

namespace sp {

struct DensifyOptions {
  float grad_threshold = 2e-4f;  // mean |dL/d mean2D| in NDC units
  float percent_dense = 0.01f;   // clone if max scale <= this x extent, else split
  float min_opacity = 0.005f;
  float max_screen_radius = 20.0f;  // pixels; applied after the first opacity reset (INRIA)
  float max_world_scale = 0.1f;     // x extent
  size_t max_gaussians = 0;         // 0 = no cap; else new Gaussians stop beyond it
};

class DensityController {
 public:
  // Accumulates statistics after a backward pass (INRIA's add_densification_stats).
  void accumulate(const RenderOutput& render, const GaussianGradients& grads, int width, int height);
  // Clone/split/prune as INRIA's densify_and_prune; resets the statistics.
  // Returns {cloned, split, pruned}.
  struct Counts {
    size_t cloned = 0, split = 0, pruned = 0;
  };
  Counts densify_and_prune(GaussianModel& model, AdamState& adam, float extent, bool prune_screen_size, Rng& rng,
                           const DensifyOptions& options);
  // Sets every opacity to at most 0.01 and clears their Adam moments (INRIA's reset).
  static void reset_opacity(GaussianModel& model, AdamState& adam, float max_opacity = 0.01f);
  // Multiplies every opacity by `factor` (Binocular3DGS's decay, in place of the reset; the
  // Adam moments stay).
  static void decay_opacity(GaussianModel& model, float factor);

  void resize(size_t n);
  // Per Gaussian: accumulated gradient norm, number of views where it was visible, and its
  // largest screen radius. Saved in checkpoints.
  std::vector<float> grad_accum;
  std::vector<float> visible_count;
  std::vector<float> max_radius;
};

}  // namespace sp
