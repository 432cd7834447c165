#pragma once
// Small random scenes for the rasterizer tests, and a double-precision copy of a model.
#include <cmath>
#include <vector>

#include "engine/core/camera.h"
#include "engine/core/rng.h"
#include "engine/render/project.h"
#include "engine/render/rasterizer.h"
#include "engine/model/gaussian_model.h"

namespace sp::test {

struct TestScene {
  Camera camera;
  GaussianModel model;
  RenderOptions options;
};

// Adds a Gaussian at camera-space position p_cam with a screen-space size of about
// `sigma_px` pixels (per axis, random anisotropy) and a random orientation.
inline void add_gaussian(TestScene& s, Rng& rng, glm::vec3 p_cam, float sigma_px, float opacity_logit) {
  GaussianModel& m = s.model;
  const Camera& c = s.camera;
  const size_t i = m.size();
  m.resize(i + 1);
  const glm::vec3 p = glm::transpose(c.R) * (p_cam - c.t);
  for (int k = 0; k < 3; ++k) {
    m.means[i * 3 + k] = p[k];
    m.log_scales[i * 3 + k] = std::log(sigma_px * rng.uniform(0.6f, 1.4f) * p_cam.z / c.fx);
  }
  const float qs = rng.uniform(0.5f, 2.0f);  // quaternions arrive un-normalized
  for (int k = 0; k < 4; ++k) m.rotations[i * 4 + k] = qs * rng.normal();
  m.opacities[i] = opacity_logit;
  const int K = m.sh_coeffs();
  for (int k = 0; k < K; ++k)
    for (int ch = 0; ch < 3; ++ch) m.sh[(i * K + k) * 3 + ch] = k == 0 ? rng.normal(0.4f, 0.6f) : rng.normal(0.0f, 0.3f);
  for (int e = 0; e < m.extra_channels; ++e) m.extras[i * m.extra_channels + e] = rng.normal();
}

// n Gaussians spread over (and a little beyond) the view of a randomly posed camera, a few
// pixels across, opacities in [0.23, 0.82] (away from the 0.99 clamp).
inline TestScene random_scene(uint64_t seed, int n, int width, int height, int sh_degree = 3, int extras = 2) {
  Rng rng(seed);
  TestScene s;
  Camera& c = s.camera;
  c.width = width;
  c.height = height;
  c.fx = rng.uniform(22.0f, 30.0f);
  c.fy = c.fx * rng.uniform(0.9f, 1.1f);
  c.cx = 0.5f * float(width) + rng.uniform(-2.0f, 2.0f);
  c.cy = 0.5f * float(height) + rng.uniform(-2.0f, 2.0f);
  const float q[4] = {1.0f, 0.2f * rng.normal(), 0.2f * rng.normal(), 0.2f * rng.normal()};
  c.R = quat_to_rotation(q);
  c.t = glm::vec3(rng.uniform(-0.5f, 0.5f), rng.uniform(-0.5f, 0.5f), rng.uniform(-0.5f, 0.5f));
  s.model.sh_degree = sh_degree;
  s.model.extra_channels = extras;
  for (int i = 0; i < n; ++i) {
    const float z = rng.uniform(2.0f, 6.0f);
    const float u = (rng.uniform(-0.1f, 1.1f) * float(width) - c.cx) / c.fx;
    const float v = (rng.uniform(-0.1f, 1.1f) * float(height) - c.cy) / c.fy;
    add_gaussian(s, rng, glm::vec3(u * z, v * z, z), rng.uniform(1.2f, 4.0f), rng.uniform(-1.2f, 1.5f));
  }
  s.options.sh_degree = sh_degree;
  s.options.background = glm::vec3(0.2f, 0.5f, 0.7f);
  return s;
}

// Larger, more opaque splats than random_scene's, over and beyond the whole view: many
// pixels saturate (T -> 0), where the CPU stops early and the Vulkan renderer keeps blending.
inline TestScene dense_scene(uint64_t seed, int n, int width, int height) {
  TestScene s = random_scene(seed, 0, width, height, 3, 0);
  Rng rng(seed + 100);
  for (int i = 0; i < n; ++i) {
    const float z = rng.uniform(1.0f, 8.0f);
    const float u = (rng.uniform(-0.2f, 1.2f) * float(width) - s.camera.cx) / s.camera.fx;
    const float v = (rng.uniform(-0.2f, 1.2f) * float(height) - s.camera.cy) / s.camera.fy;
    add_gaussian(s, rng, glm::vec3(u * z, v * z, z), rng.uniform(2.0f, 25.0f), rng.uniform(-2.0f, 6.0f));
  }
  return s;
}

// The model's arrays in double (exact copies), for finite differences.
struct DoubleGaussians {
  explicit DoubleGaussians(const GaussianModel& m)
      : sh_coeffs(m.sh_coeffs()),
        extra_channels(m.extra_channels),
        means(m.means.begin(), m.means.end()),
        log_scales(m.log_scales.begin(), m.log_scales.end()),
        rotations(m.rotations.begin(), m.rotations.end()),
        opacities(m.opacities.begin(), m.opacities.end()),
        sh(m.sh.begin(), m.sh.end()),
        extras(m.extras.begin(), m.extras.end()) {}
  int sh_coeffs, extra_channels;
  std::vector<double> means, log_scales, rotations, opacities, sh, extras;
  GaussianParamsT<double> params() const {
    GaussianParamsT<double> p;
    p.count = opacities.size();
    p.sh_coeffs = sh_coeffs;
    p.extra_channels = extra_channels;
    p.means = means.data();
    p.log_scales = log_scales.data();
    p.rotations = rotations.data();
    p.opacities = opacities.data();
    p.sh = sh.data();
    p.extras = extras.empty() ? nullptr : extras.data();
    return p;
  }
};

}  // namespace sp::test
