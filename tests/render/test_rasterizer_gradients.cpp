// Every gradient of the CPU tile rasterizer against central finite differences, in double.
//
// Loss: L = Σ gC·colour + Σ gD·depth + Σ gA·alpha + Σ gF·extras with random weight images,
// so every output and every path (mean2D, depth, SH view direction, conic, opacity, colour,
// extras) enters. Scenes: 24x20 pixels (2x2 tiles), 15-16 Gaussians, random camera pose,
// SH degree 3, 2 extra channels, background (0.2, 0.5, 0.7), one Gaussian centred beyond the
// Jacobian's clamp; a fourth scene with opacities up to 0.999 and a stack of opaque
// Gaussians (α clamped at 0.99, pixels stopping at T < 1e-4, both counted) and a lower
// active SH degree.
//
// Step h = 1e-5. The finite differences carry rounding noise of ~1e-16·Σ|terms of L| / h,
// about 5e-9 absolute here (errors were seen to scale as 1/h from h = 1e-7 to 1e-5 and the
// truncation error ~h² stays below it up to h ~ 1e-4). The blending has discontinuities
// (α skipped below 1/255, the T < 1e-4 stop, the 3σ tile box); a step this small crosses
// one with negligible probability, and the seeds are fixed.
//
// Error per parameter array: max_k |a_k − n_k| / (|n_k| + 1e-3 · max_k |n_k|): relative, with
// entries below 1e-3 of the array's largest compared in absolute terms (they are the ones
// the noise dominates). Observed over the four scenes: means 3e-8, log_scales 1e-7,
// rotations 1.6e-6, opacities 2.3e-6, sh 1.3e-6, extras 4e-8, means2d 2.3e-7. Tolerance
// 1e-4: a wrong or missing term gives errors of order 1.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "engine/render/tile_rasterizer_cpu.h"
#include "render/render_test_scene.h"

namespace sp {
namespace {

constexpr double kStep = 1e-5;
constexpr double kTolerance = 1e-4;
constexpr double kFloor = 1e-3;  // entries below 1e-3 of the array's largest are compared in absolute terms

struct LossWeights {
  std::vector<double> color, depth, alpha, extras;
  TileOutputGradientsT<double> grads() const {
    return {color.data(), depth.data(), alpha.data(), extras.empty() ? nullptr : extras.data()};
  }
};

LossWeights random_weights(uint64_t seed, int width, int height, int extras) {
  Rng rng(seed);
  const size_t P = size_t(width) * height;
  LossWeights w;
  w.color.resize(P * 3);
  w.depth.resize(P);
  w.alpha.resize(P);
  w.extras.resize(P * size_t(extras));
  for (auto& v : w.color) v = rng.normal();
  for (auto& v : w.depth) v = 0.2 * rng.normal();  // depth values are larger than colours
  for (auto& v : w.alpha) v = rng.normal();
  for (auto& v : w.extras) v = rng.normal();
  return w;
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

class GradientCheck {
 public:
  GradientCheck(const test::TestScene& scene, uint64_t seed)
      : scene_(scene),
        g_(scene.model),
        w_(random_weights(seed, scene.camera.width, scene.camera.height, scene.model.extra_channels)),
        offsets_(scene.model.size() * 2, 0.0) {
    TileRenderT<double> out;
    rast_.forward(scene_.camera, g_.params(), scene_.options, out);
    rast_.backward(scene_.camera, g_.params(), scene_.options, out.state, w_.grads(), grads_);
    visible_ = size_t(std::count_if(out.radii.begin(), out.radii.end(), [](int r) { return r > 0; }));
  }

  double loss() {
    TileRenderT<double> out;
    rast_.forward(scene_.camera, g_.params(), scene_.options, out, offsets_.data());
    return dot(out.color, w_.color) + dot(out.depth, w_.depth) + dot(out.alpha, w_.alpha) +
           dot(out.extras, w_.extras);
  }

  // Central differences over every entry of `param` against `analytic`; returns the error measure.
  double check(std::vector<double>& param, const std::vector<double>& analytic, const std::string& name) {
    EXPECT_EQ(param.size(), analytic.size()) << name;
    std::vector<double> numeric(param.size());
    for (size_t k = 0; k < param.size(); ++k) {
      const double v = param[k];
      param[k] = v + kStep;
      const double lp = loss();
      param[k] = v - kStep;
      const double lm = loss();
      param[k] = v;
      numeric[k] = (lp - lm) / (2 * kStep);
    }
    double scale = 0;
    for (double n : numeric) scale = std::max(scale, std::abs(n));
    double err = 0;
    size_t worst = 0;
    for (size_t k = 0; k < param.size(); ++k) {
      const double e = std::abs(analytic[k] - numeric[k]) / (std::abs(numeric[k]) + kFloor * scale);
      if (e > err) {
        err = e;
        worst = k;
      }
    }
    std::printf("  %-11s max rel err %.2e  (scale %.3g; worst #%zu: analytic %.9g numeric %.9g)\n", name.c_str(),
                err, scale, worst, analytic.empty() ? 0.0 : analytic[worst], numeric.empty() ? 0.0 : numeric[worst]);
    EXPECT_GT(scale, 0.0) << name << ": the loss does not depend on it (scene too sparse?)";
    EXPECT_LT(err, kTolerance) << name << " worst entry " << worst;
    return err;
  }

  void check_all() {
    std::printf("scene: %zu Gaussians, %zu visible\n", g_.opacities.size(), visible_);
    check(g_.means, grads_.means, "means");
    check(g_.log_scales, grads_.log_scales, "log_scales");
    check(g_.rotations, grads_.rotations, "rotations");
    check(g_.opacities, grads_.opacities, "opacities");
    check(g_.sh, grads_.sh, "sh");
    if (!g_.extras.empty()) check(g_.extras, grads_.extras, "extras");
    check(offsets_, grads_.means2d, "means2d");
  }

  test::TestScene scene_;
  test::DoubleGaussians g_;
  LossWeights w_;
  std::vector<double> offsets_;  // the means2d hook of forward()
  TileRasterizerT<double> rast_;
  GaussianGradientsT<double> grads_;
  size_t visible_ = 0;
};

TEST(RasterizerGradients, RandomScenesMatchFiniteDifferences) {
  for (uint64_t seed : {1u, 2u, 3u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::TestScene scene = test::random_scene(seed, 14, 24, 20);
    // One Gaussian centred beyond 1.3 tan(fov/2) (x/z clamped inside J) but reaching into view.
    Rng rng(100 + seed);
    const float z = 3.0f, lim = 1.3f * 0.5f * 24.0f / scene.camera.fx;
    test::add_gaussian(scene, rng, glm::vec3((lim + 0.1f) * z, 0.0f, z), 4.0f, 1.0f);
    GradientCheck(scene, seed).check_all();
  }
}

TEST(RasterizerGradients, HighOpacityAndLowerActiveDegree) {
  // Opacities 0.95 and up to 0.998 (α clamped at 0.99 near the centres, pixels stopping at
  // T < 1e-4) and SH degree 1 active out of 3 stored: coefficients 4..15 get zero gradient.
  test::TestScene scene = test::random_scene(7, 16, 24, 20);
  for (size_t i = 0; i < scene.model.size(); ++i)
    if (i % 2 == 0) scene.model.opacities[i] = 6.0f + 0.05f * float(i);
  // A stack of four opaque Gaussians near the image centre, so that pixels stop.
  Rng rng(70);
  const Camera& c = scene.camera;
  for (int k = 0; k < 4; ++k) {
    const float z = 2.5f + 0.7f * float(k);
    const float u = (12.0f + 1.3f * float(k) - c.cx) / c.fx, v = (10.0f - 0.9f * float(k) - c.cy) / c.fy;
    test::add_gaussian(scene, rng, glm::vec3(u * z, v * z, z), 3.5f, 3.5f + 0.8f * float(k));
  }
  scene.options.sh_degree = 1;
  GradientCheck check(scene, 7);
  {
    // The scene must reach the clamp and the stop: replay each pixel's walk over its tile
    // list and count the walks that ended at the T < 1e-4 test, and the clamped alphas.
    test::DoubleGaussians g(scene.model);
    TileRasterizerT<double> rast;
    TileRenderT<double> out;
    rast.forward(scene.camera, g.params(), scene.options, out);
    const auto& st = out.state;
    size_t stopped = 0, clamped = 0;
    for (int y = 0; y < st.height; ++y)
      for (int x = 0; x < st.width; ++x) {
        const int tile = (y / kTileSize) * st.tiles_x + x / kTileSize;
        double T = 1;
        for (uint32_t e = st.tile_offsets[tile]; e < st.tile_offsets[tile + 1]; ++e) {
          const SplatT<double>& sp = st.splats[st.tile_entries[e]];
          const double dx = sp.mean_x - (x + 0.5), dy = sp.mean_y - (y + 0.5);
          const double oG = sp.opacity * std::exp(-(0.5 * (sp.conic_a * dx * dx + sp.conic_c * dy * dy) +
                                                    sp.conic_b * dx * dy));
          const double alpha = std::min(0.99, oG);
          if (alpha < 1.0 / 255.0) continue;
          if (T * (1 - alpha) < 1e-4) {
            ++stopped;
            break;
          }
          clamped += oG > 0.99 ? 1 : 0;
          T *= 1 - alpha;
        }
      }
    double max_opacity = 0;
    for (double o : g.opacities) max_opacity = std::max(max_opacity, 1 / (1 + std::exp(-o)));
    std::printf("  %zu pixels stopped at T < 1e-4, %zu blends clamped at 0.99 (max opacity %.4f)\n", stopped, clamped,
                max_opacity);
    EXPECT_GT(stopped, 0u);
    EXPECT_GT(clamped, 0u);
  }
  check.check_all();
  const int K = scene.model.sh_coeffs();
  for (size_t i = 0; i < scene.model.size(); ++i)
    for (int k = 4; k < K; ++k)
      for (int c = 0; c < 3; ++c) ASSERT_EQ(check.grads_.sh[(i * K + k) * 3 + c], 0.0);
}

TEST(RasterizerGradients, NoExtrasNoOptionalOutputs) {
  // E = 0 and only the colour output in the loss (depth, alpha gradients null).
  test::TestScene scene = test::random_scene(11, 12, 24, 20, 2, 0);
  test::DoubleGaussians g(scene.model);
  const LossWeights w = random_weights(11, 24, 20, 0);
  TileRasterizerT<double> rast;
  TileRenderT<double> out;
  rast.forward(scene.camera, g.params(), scene.options, out);
  TileOutputGradientsT<double> og;
  og.color = w.color.data();
  GaussianGradientsT<double> grads;
  rast.backward(scene.camera, g.params(), scene.options, out.state, og, grads);
  EXPECT_TRUE(grads.extras.empty());
  auto loss = [&] {
    TileRenderT<double> o;
    rast.forward(scene.camera, g.params(), scene.options, o);
    return dot(o.color, w.color);
  };
  double worst = 0, scale = 0;
  for (size_t k = 0; k < g.means.size(); ++k) {
    const double v = g.means[k];
    g.means[k] = v + kStep;
    const double lp = loss();
    g.means[k] = v - kStep;
    const double lm = loss();
    g.means[k] = v;
    const double n = (lp - lm) / (2 * kStep);
    scale = std::max(scale, std::abs(n));
    worst = std::max(worst, std::abs(n - grads.means[k]));
  }
  EXPECT_GT(scale, 0.0);
  EXPECT_LT(worst, kTolerance * kFloor * scale);
}

}  // namespace
}  // namespace sp
