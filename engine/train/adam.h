#pragma once
// Adam over the GaussianModel's arrays, one learning rate per array (as INRIA's param
// groups). The moments are themselves GaussianModels of the same shape, so densification
// grows and prunes them with the same calls it applies to the parameters.
#include "engine/render/rasterizer.h"
#include "engine/model/gaussian_model.h"

namespace sp {

struct LearningRates {
  float means = 1.6e-4f;  // times the scene extent; decays (see position_lr)
  float sh_dc = 2.5e-3f;
  float sh_rest = 2.5e-3f / 20.0f;
  float opacities = 0.05f;
  float log_scales = 5e-3f;
  float rotations = 1e-3f;
  float extras = 2.5e-3f;
};

struct AdamState {
  GaussianModel m, v;  // first and second moments, same shape as the model
  long step = 0;
  // Matches the model's shape (zero moments for a new model).
  void reset_like(const GaussianModel& model);
};

class Adam {
 public:
  float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-15f;  // INRIA uses eps = 1e-15
  // One Adam step on every array with its gradient; `lr.means` is the current position rate.
  // SH coefficients above `active_sh_degree` (< 0: none) are left alone: the renderer gives
  // them zero gradients until their degree is active, so their moments are zero too and a
  // full update would not change them either (INRIA's 1000-iteration degree steps leave
  // 45 of 48 SH values per Gaussian idle for a whole short run).
  // Returns the group ("means", "scales", "rotations", "opacities", "sh", "extras") of the
  // first array left with a NaN or an infinity (a poison gradient or parameter), else null.
  const char* step(GaussianModel& model, const GaussianGradients& grads, AdamState& state, const LearningRates& lr,
                   int active_sh_degree = -1) const;
};

// INRIA's get_expon_lr_func without delay: log-linear from `initial` to `final` over
// `max_steps`, then constant.
float exponential_lr(float initial, float final, long step, long max_steps);

}  // namespace sp
