#pragma once
// A Gaussian model with every parameter drawn from N(0, sigma²): for tests of layouts and
// kernels that must carry any values through (PLY round trips, CUDA parameter packing).
#include <cstddef>

#include "engine/core/rng.h"
#include "engine/model/gaussian_model.h"

namespace sp::test {

inline GaussianModel random_model(Rng& rng, size_t n, int sh_degree, int extra_channels, float sigma = 1.0f) {
  GaussianModel m;
  m.sh_degree = sh_degree;
  m.extra_channels = extra_channels;
  m.resize(n);
  for (auto* values : {&m.means, &m.log_scales, &m.rotations, &m.opacities, &m.sh, &m.extras})
    for (float& v : *values) v = float(rng.normal(0.0f, sigma));
  return m;
}

}  // namespace sp::test
