#include "engine/render/rasterizer.h"

namespace sp {

GaussianParams params_of(const GaussianModel& model) {
  GaussianParams p;
  p.count = model.size();
  p.sh_coeffs = model.sh_coeffs();
  p.extra_channels = model.extra_channels;
  p.means = model.means.data();
  p.log_scales = model.log_scales.data();
  p.rotations = model.rotations.data();
  p.opacities = model.opacities.data();
  p.sh = model.sh.data();
  p.extras = model.extras.empty() ? nullptr : model.extras.data();
  return p;
}

}  // namespace sp
