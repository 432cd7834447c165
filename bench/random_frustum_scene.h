#pragma once
// The benchmarks' synthetic load: n Gaussians spread through a 55-degree vertical frustum
// (10% beyond each edge), depth 2..10, a few pixels across on screen (log-normal σ with
// mean exp(size_log_mean) px), random orientation, mixed opacities, SH degree 3.
#include <cmath>
#include <cstddef>

#include "engine/core/rng.h"
#include "engine/core/camera.h"
#include "engine/model/gaussian_model.h"

namespace sp::bench {

inline void random_frustum_scene(size_t n, int width, int height, Camera& cam, GaussianModel& m,
                                 float size_log_mean = 0.2f, float sh_rest_sigma = 0.2f) {
  cam = Camera();
  cam.name = "bench";
  cam.width = width;
  cam.height = height;
  cam.fx = cam.fy = 0.5f * float(height) / std::tan(0.5f * 0.96f);
  cam.cx = 0.5f * float(width);
  cam.cy = 0.5f * float(height);
  Rng rng(7);
  m = GaussianModel();
  m.sh_degree = 3;
  m.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const float z = rng.uniform(2.0f, 10.0f);
    m.means[i * 3 + 0] = (rng.uniform(-0.1f, 1.1f) * float(width) - cam.cx) / cam.fx * z;
    m.means[i * 3 + 1] = (rng.uniform(-0.1f, 1.1f) * float(height) - cam.cy) / cam.fy * z;
    m.means[i * 3 + 2] = z;
    for (int k = 0; k < 3; ++k)
      m.log_scales[i * 3 + size_t(k)] = std::log(std::exp(rng.normal(size_log_mean, 0.6f)) * z / cam.fx);
    for (int k = 0; k < 4; ++k) m.rotations[i * 4 + size_t(k)] = rng.normal();
    m.opacities[i] = rng.normal(0.5f, 2.0f);
    for (int k = 0; k < 48; ++k) m.sh[i * 48 + size_t(k)] = k < 3 ? rng.normal(0.0f, 1.0f) : rng.normal(0.0f, sh_rest_sigma);
  }
}

}  // namespace sp::bench
