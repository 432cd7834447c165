// The CPU tile rasterizer's forward pass against a naive renderer, float against double,
// determinism across thread counts, and the edge cases of the contract.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <vector>

#include "engine/core/error.h"
#include "engine/core/parallel.h"
#include "engine/render/sh.h"
#include "engine/render/tile_rasterizer_cpu.h"
#include "render/render_test_scene.h"

namespace sp {
namespace {

double max_abs_diff(const std::vector<double>& a, const std::vector<double>& b) {
  EXPECT_EQ(a.size(), b.size());
  double m = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}
template <class F>
double max_abs_diff(const std::vector<F>& a, const std::vector<double>& b) {
  return max_abs_diff(std::vector<double>(a.begin(), a.end()), b);
}
double max_abs(const std::vector<double>& a) {
  double m = 0;
  for (double v : a) m = std::max(m, std::abs(v));
  return m;
}

// The INRIA semantics written out per pixel with no acceleration: every Gaussian whose 3σ
// box (mean ± radius) meets the pixel's 16x16 tile, in depth order (depth rounded to float,
// ties by index), α = min(0.99, o e^−q), skipped below 1/255, stop before T < 1e-4.
struct NaiveImages {
  std::vector<double> color, depth, alpha, extras;
};
NaiveImages naive_render(const Camera& camera, const test::DoubleGaussians& g, const RenderOptions& opt) {
  const auto cam = projection_camera<double>(camera, opt.near_plane);
  const int W = camera.width, H = camera.height, E = g.extra_channels, K = g.sh_coeffs;
  int stored = 0;
  while (stored < 3 && sh_coeff_count(stored + 1) <= K) ++stored;
  const int degree = std::min(opt.sh_degree, stored);
  struct Splat {
    ProjectedGaussianT<double> pg;
    double opacity;
    Vec3T<double> rgb;
    int tx0, tx1, ty0, ty1;
    size_t id;
  };
  std::vector<Splat> splats;
  const int tiles_x = (W + 15) / 16, tiles_y = (H + 15) / 16;
  for (size_t i = 0; i < g.opacities.size(); ++i) {
    Splat s;
    if (!project_gaussian(cam, &g.means[i * 3], &g.log_scales[i * 3], &g.rotations[i * 4], s.pg)) continue;
    const double r = s.pg.radius, mx = s.pg.mean2d.x, my = s.pg.mean2d.y;
    s.tx0 = std::clamp(int(std::floor((mx - r) / 16)), 0, tiles_x);
    s.tx1 = std::clamp(int(std::ceil((mx + r) / 16)), 0, tiles_x);
    s.ty0 = std::clamp(int(std::floor((my - r) / 16)), 0, tiles_y);
    s.ty1 = std::clamp(int(std::ceil((my + r) / 16)), 0, tiles_y);
    if (s.tx0 >= s.tx1 || s.ty0 >= s.ty1) continue;
    s.opacity = 1.0 / (1.0 + std::exp(-g.opacities[i]));
    bool clamped[3];
    s.rgb = sh_to_color(degree, &g.sh[i * K * 3], Vec3T<double>(g.means[i * 3], g.means[i * 3 + 1], g.means[i * 3 + 2]) - cam.center,
                        clamped);
    s.id = i;
    splats.push_back(s);
  }
  std::stable_sort(splats.begin(), splats.end(),
                   [](const Splat& a, const Splat& b) { return float(a.pg.depth) < float(b.pg.depth); });
  NaiveImages out;
  out.color.resize(size_t(W) * H * 3);
  out.depth.resize(size_t(W) * H);
  out.alpha.resize(size_t(W) * H);
  out.extras.resize(size_t(W) * H * E);
  for (int py = 0; py < H; ++py)
    for (int px = 0; px < W; ++px) {
      const size_t pix = size_t(py) * W + px;
      double T = 1, rgb[3] = {0, 0, 0}, depth = 0;
      std::vector<double> f(size_t(E), 0.0);
      for (const Splat& s : splats) {
        if (px / 16 < s.tx0 || px / 16 >= s.tx1 || py / 16 < s.ty0 || py / 16 >= s.ty1) continue;
        const double dx = s.pg.mean2d.x - (px + 0.5), dy = s.pg.mean2d.y - (py + 0.5);
        const double q = 0.5 * (s.pg.conic.a * dx * dx + s.pg.conic.c * dy * dy) + s.pg.conic.b * dx * dy;
        if (q < 0) continue;
        const double alpha = std::min(0.99, s.opacity * std::exp(-q));
        if (alpha < 1.0 / 255.0) continue;
        const double t_next = T * (1 - alpha);
        if (t_next < 1e-4) break;
        const double w = alpha * T;
        for (int c = 0; c < 3; ++c) rgb[c] += w * s.rgb[c];
        depth += w * s.pg.depth;
        for (int k = 0; k < E; ++k) f[k] += w * g.extras[s.id * E + k];
        T = t_next;
      }
      for (int c = 0; c < 3; ++c) out.color[pix * 3 + c] = rgb[c] + T * opt.background[c];
      out.depth[pix] = depth;
      out.alpha[pix] = 1 - T;
      for (int k = 0; k < E; ++k) out.extras[pix * E + k] = f[k];
    }
  return out;
}

TEST(TileRasterizer, MatchesANaivePerPixelRenderer) {
  // 3x3 tiles with a ragged right/bottom edge; one scene with low opacities, one where most
  // pixels saturate (T < 1e-4 stops, α clamped at 0.99). The tile, row and span culling of
  // the rasterizer must change nothing: the same operations in the same order, so the
  // results agree to rounding (observed: exact).
  for (int variant = 0; variant < 2; ++variant) {
    test::TestScene scene = test::random_scene(21 + variant, variant == 0 ? 60 : 400, 45, 37);
    if (variant == 1)
      for (float& o : scene.model.opacities) o += 4.0f;
    const test::DoubleGaussians g(scene.model);
    TileRasterizerT<double> rast;
    TileRenderT<double> out;
    rast.forward(scene.camera, g.params(), scene.options, out);
    const NaiveImages ref = naive_render(scene.camera, g, scene.options);
    const double mean_alpha = std::accumulate(ref.alpha.begin(), ref.alpha.end(), 0.0) / double(ref.alpha.size());
    const size_t opaque = size_t(std::count_if(ref.alpha.begin(), ref.alpha.end(), [](double a) { return a > 0.999; }));
    const double d[4] = {max_abs_diff(out.color, ref.color), max_abs_diff(out.depth, ref.depth),
                         max_abs_diff(out.alpha, ref.alpha), max_abs_diff(out.extras, ref.extras)};
    std::printf("variant %d: mean alpha %.3f, %zu pixels with alpha > 0.999, %zu tile entries; max |diff| %.1e %.1e %.1e %.1e\n",
                variant, mean_alpha, opaque, out.state.tile_entries.size(), d[0], d[1], d[2], d[3]);
    if (variant == 1) {
      EXPECT_GT(opaque, 100u);
    }
    for (double v : d) EXPECT_LT(v, 1e-12);
  }
}

TEST(TileRasterizer, FloatAgreesWithDouble) {
  // Every float kernel path (32-byte vectors with AVX2 + FMA, with or without the AVX-512VL
  // encoding, where the CPU has them; the 16-byte baseline) against the double instance:
  // outputs and gradients.
  test::TestScene scene = test::random_scene(5, 300, 64, 48);
  const test::DoubleGaussians g(scene.model);
  TileRasterizerT<double> rd;
  TileRenderT<double> od;
  rd.forward(scene.camera, g.params(), scene.options, od);
  Rng rng(9);
  const size_t P = size_t(scene.camera.width) * scene.camera.height;
  std::vector<double> wc(P * 3), wd(P), wa(P), we(P * 2);
  for (auto* v : {&wc, &wd, &wa, &we})
    for (double& x : *v) x = rng.normal();
  const std::vector<float> fc(wc.begin(), wc.end()), fd(wd.begin(), wd.end()), fa(wa.begin(), wa.end()),
      fe(we.begin(), we.end());
  GaussianGradientsT<double> gd;
  rd.backward(scene.camera, g.params(), scene.options, od.state, {wc.data(), wd.data(), wa.data(), we.data()}, gd);

  const GaussianParams pf = params_of(scene.model);
  std::vector<float> first_color, first_means;
  for (int path = 0; path < 3; ++path) {  // 32 bytes (AVX-512VL encoding where present), 32 (AVX2), 16
    const int bytes = path < 2 ? 32 : 16;
    TileRasterizerT<float> rf;
    rf.max_vector_bytes = bytes;
    rf.allow_avx512 = path == 0;
    TileRenderT<float> of;
    rf.forward(scene.camera, pf, scene.options, of);
    const double dc = max_abs_diff(of.color, od.color), dd = max_abs_diff(of.depth, od.depth),
                 da = max_abs_diff(of.alpha, od.alpha), de = max_abs_diff(of.extras, od.extras);
    std::printf("float (%d-byte vectors) - double, max abs: colour %.2e, depth %.2e (max %.2f), alpha %.2e, extras %.2e\n",
                bytes, dc, dd, max_abs(od.depth), da, de);
    EXPECT_LT(dc, 2e-5);
    EXPECT_LT(dd, 1e-4);
    EXPECT_LT(da, 2e-5);
    EXPECT_LT(de, 2e-5);
    EXPECT_EQ(of.radii, od.radii);

    GaussianGradientsT<float> gf;
    rf.backward(scene.camera, pf, scene.options, of.state, {fc.data(), fd.data(), fa.data(), fe.data()}, gf);
    auto rel = [](const std::vector<float>& a, const std::vector<double>& b) { return max_abs_diff(a, b) / max_abs(b); };
    const double e[7] = {rel(gf.means, gd.means),     rel(gf.log_scales, gd.log_scales), rel(gf.rotations, gd.rotations),
                         rel(gf.opacities, gd.opacities), rel(gf.sh, gd.sh),           rel(gf.extras, gd.extras),
                         rel(gf.means2d, gd.means2d)};
    std::printf("  gradients, max abs diff / max abs: means %.1e log_scales %.1e rotations %.1e opacities %.1e sh %.1e "
                "extras %.1e means2d %.1e\n",
                e[0], e[1], e[2], e[3], e[4], e[5], e[6]);
    for (double v : e) EXPECT_LT(v, 1e-4);
    if (path == 0) {
      first_color = of.color;
      first_means = gf.means;
    } else if (path == 1) {  // the two encodings of the 32-byte path do the same arithmetic
      EXPECT_EQ(of.color, first_color);
      EXPECT_EQ(gf.means, first_means);
    }
  }
}

TEST(TileRasterizer, BitIdenticalForAnyThreadCount) {
  // Large enough that every stage runs in parallel.
  test::TestScene scene = test::random_scene(3, 6000, 160, 120);
  const GaussianParams params = params_of(scene.model);
  Rng rng(4);
  Image wc(160, 120, 3), wd(160, 120, 1), wa(160, 120, 1), we(160, 120, 2);
  for (Image* im : {&wc, &wd, &wa, &we})
    for (float& v : im->pixels) v = rng.normal();
  const OutputGradients og{&wc, &wd, &wa, &we};
  const int saved = thread_count();
  std::vector<RenderOutput> outs;
  std::vector<GaussianGradients> grads;
  for (int threads : {1, 2, 3}) {
    set_thread_count(threads);
    auto rast = make_cpu_rasterizer();
    outs.push_back(rast->forward(scene.camera, params, scene.options));
    grads.emplace_back();
    rast->backward(scene.camera, params, scene.options, outs.back(), og, grads.back());
  }
  set_thread_count(saved);
  ASSERT_GT(std::count_if(outs[0].radii.begin(), outs[0].radii.end(), [](int r) { return r > 0; }), 4096);
  auto same = [](const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
  };
  for (size_t k = 1; k < outs.size(); ++k) {
    EXPECT_TRUE(same(outs[k].color.pixels, outs[0].color.pixels));
    EXPECT_TRUE(same(outs[k].depth.pixels, outs[0].depth.pixels));
    EXPECT_TRUE(same(outs[k].alpha.pixels, outs[0].alpha.pixels));
    EXPECT_TRUE(same(outs[k].extras.pixels, outs[0].extras.pixels));
    EXPECT_EQ(outs[k].radii, outs[0].radii);
    EXPECT_TRUE(same(grads[k].means, grads[0].means));
    EXPECT_TRUE(same(grads[k].log_scales, grads[0].log_scales));
    EXPECT_TRUE(same(grads[k].rotations, grads[0].rotations));
    EXPECT_TRUE(same(grads[k].opacities, grads[0].opacities));
    EXPECT_TRUE(same(grads[k].sh, grads[0].sh));
    EXPECT_TRUE(same(grads[k].extras, grads[0].extras));
    EXPECT_TRUE(same(grads[k].means2d, grads[0].means2d));
  }
}

TEST(TileRasterizer, EmptySceneIsTheBackground) {
  test::TestScene scene = test::random_scene(1, 0, 40, 30, 3, 2);
  auto rast = make_cpu_rasterizer();
  const RenderOutput out = rast->forward(scene.camera, params_of(scene.model), scene.options);
  ASSERT_EQ(out.color.pixels.size(), 40u * 30u * 3u);
  for (size_t p = 0; p < out.alpha.pixel_count(); ++p) {
    for (int c = 0; c < 3; ++c) EXPECT_EQ(out.color.pixels[p * 3 + c], scene.options.background[c]);
    EXPECT_EQ(out.alpha.pixels[p], 0.0f);
    EXPECT_EQ(out.depth.pixels[p], 0.0f);
  }
  EXPECT_EQ(out.extras.channels, 2);
  EXPECT_TRUE(std::all_of(out.extras.pixels.begin(), out.extras.pixels.end(), [](float v) { return v == 0.0f; }));
  Image wc(40, 30, 3, 1.0f);
  GaussianGradients g;
  rast->backward(scene.camera, params_of(scene.model), scene.options, out, OutputGradients{&wc}, g);
  EXPECT_TRUE(g.means.empty() && g.sh.empty() && g.means2d.empty());
}

TEST(TileRasterizer, GaussiansBehindTheCameraAreCulled) {
  test::TestScene scene = test::random_scene(1, 0, 40, 30, 0, 0);
  Rng rng(2);
  test::add_gaussian(scene, rng, glm::vec3(0.0f, 0.0f, -3.0f), 20.0f, 3.0f);  // behind
  test::add_gaussian(scene, rng, glm::vec3(0.0f, 0.0f, 0.1f), 20.0f, 3.0f);   // in front of the near plane
  test::add_gaussian(scene, rng, glm::vec3(0.0f, 0.0f, 3.0f), 2.0f, 3.0f);    // visible
  auto rast = make_cpu_rasterizer();
  const RenderOutput out = rast->forward(scene.camera, params_of(scene.model), scene.options);
  EXPECT_EQ(out.radii[0], 0);
  EXPECT_EQ(out.radii[1], 0);
  EXPECT_GT(out.radii[2], 0);
  Image wc(40, 30, 3, 1.0f), wa(40, 30, 1, 1.0f);
  GaussianGradients g;
  rast->backward(scene.camera, params_of(scene.model), scene.options, out, OutputGradients{&wc, nullptr, &wa}, g);
  for (int i = 0; i < 2; ++i) {
    for (int k = 0; k < 3; ++k) EXPECT_EQ(g.means[i * 3 + k], 0.0f);
    EXPECT_EQ(g.opacities[i], 0.0f);
  }
  EXPECT_NE(g.opacities[2], 0.0f);
}

TEST(TileRasterizer, ExtraChannelsAreBlendedLikeColour) {
  // Channel 0 = 1 for every Gaussian renders alpha; channel 1 = 0.25 renders alpha / 4;
  // channel 2 = the SH DC term of red with degree 0 renders colour − background·T.
  test::TestScene scene = test::random_scene(8, 80, 48, 40, 0, 3);
  GaussianModel& m = scene.model;
  for (size_t i = 0; i < m.size(); ++i) {
    m.extras[i * 3 + 0] = 1.0f;
    m.extras[i * 3 + 1] = 0.25f;
    m.sh[i * 3] = std::abs(m.sh[i * 3]);  // no clamping at 0
    m.extras[i * 3 + 2] = kSHC0 * m.sh[i * 3] + 0.5f;
  }
  auto rast = make_cpu_rasterizer();
  const RenderOutput out = rast->forward(scene.camera, params_of(m), scene.options);
  ASSERT_EQ(out.extras.channels, 3);
  double mean_alpha = 0;
  for (size_t p = 0; p < out.alpha.pixel_count(); ++p) {
    const float a = out.alpha.pixels[p];
    mean_alpha += a;
    EXPECT_NEAR(out.extras.pixels[p * 3 + 0], a, 2e-6);
    EXPECT_NEAR(out.extras.pixels[p * 3 + 1], 0.25f * a, 1e-6);
    const float red = out.color.pixels[p * 3] - (1.0f - a) * scene.options.background[0];
    EXPECT_NEAR(out.extras.pixels[p * 3 + 2], red, 2e-6);
  }
  EXPECT_GT(mean_alpha / double(out.alpha.pixel_count()), 0.3);
}

TEST(TileRasterizer, PixelCentresAreAtHalfIntegers) {
  // An isotropic Gaussian whose mean projects to (10.5, 7.5): pixel (10, 7) is its peak and
  // its neighbours left/right and up/down are equal.
  test::TestScene scene = test::random_scene(1, 0, 24, 20, 0, 0);
  Camera& c = scene.camera;
  c.R = glm::mat3(1.0f);
  c.t = glm::vec3(0.0f);
  c.fx = c.fy = 20.0f;
  c.cx = 12.0f;
  c.cy = 10.0f;
  scene.model.resize(1);
  const double z = 4.0;
  scene.model.means = {float((10.5 - 12.0) / 20.0 * z), float((7.5 - 10.0) / 20.0 * z), float(z)};
  scene.model.log_scales = {std::log(0.2f), std::log(0.2f), std::log(0.2f)};
  scene.model.opacities = {0.0f};
  scene.model.sh = {1.0f, 1.0f, 1.0f};
  const test::DoubleGaussians g(scene.model);
  TileRasterizerT<double> rast;
  TileRenderT<double> out;
  rast.forward(c, g.params(), scene.options, out);
  auto alpha = [&](int x, int y) { return out.alpha[size_t(y) * 24 + x]; };
  EXPECT_GT(alpha(10, 7), alpha(9, 7));
  EXPECT_GT(alpha(10, 7), alpha(10, 8));
  EXPECT_NEAR(alpha(9, 7), alpha(11, 7), 1e-6);
  EXPECT_NEAR(alpha(10, 6), alpha(10, 8), 1e-6);
  EXPECT_NEAR(alpha(10, 7), 0.5, 1e-6);  // o = sigmoid(0), q = 0 at the centre
}

TEST(TileRasterizer, DepthOrderWithTiesByIndex) {
  // Two opaque-ish Gaussians covering the same pixels: the nearer one's colour dominates
  // whatever its index; at equal depth the lower index is in front.
  for (int order = 0; order < 3; ++order) {
    test::TestScene scene = test::random_scene(1, 0, 16, 16, 0, 0);
    Camera& c = scene.camera;
    c.R = glm::mat3(1.0f);
    c.t = glm::vec3(0.0f);
    scene.model.resize(2);
    const float z0 = order == 2 ? 3.0f : (order == 0 ? 2.0f : 4.0f), z1 = 3.0f;
    for (int i = 0; i < 2; ++i) {
      const float z = i == 0 ? z0 : z1;
      for (int k = 0; k < 3; ++k) scene.model.log_scales[i * 3 + k] = std::log(0.5f * z / c.fx * 8.0f);
      scene.model.means[i * 3 + 0] = (8.0f - c.cx) / c.fx * z;
      scene.model.means[i * 3 + 1] = (8.0f - c.cy) / c.fy * z;
      scene.model.means[i * 3 + 2] = z;
      scene.model.opacities[i] = 3.0f;
      scene.model.sh[i * 3 + 0] = i == 0 ? 1.5f : -1.5f;  // Gaussian 0 red-ish, 1 dark
    }
    auto rast = make_cpu_rasterizer();
    const RenderOutput out = rast->forward(c, params_of(scene.model), scene.options);
    const float red = out.color.at(8, 8, 0);
    if (order == 1) {
      EXPECT_LT(red, 0.5f);  // Gaussian 1 in front
    } else {
      EXPECT_GT(red, 0.5f);  // Gaussian 0 in front (nearer, or tied with the lower index)
    }
  }
}

TEST(TileRasterizer, ExpApproximationIsWithinAFewUlp) {
  double worst = 0;
  for (int i = 0; i <= 870000; ++i) {
    const float x = -float(i) * 1e-4f;
    const double exact = std::exp(double(x));
    worst = std::max(worst, std::abs(double(blend_exp(x)) - exact) / exact);
  }
  std::printf("blend_exp(float): max relative error %.2e on [-87, 0]\n", worst);
  EXPECT_LT(worst, 2.4e-7);  // 2 ulp (observed: below 1 ulp)
  EXPECT_EQ(blend_exp(0.0f), 1.0f);
  EXPECT_EQ(blend_exp(2.0f), 1.0f);  // inputs above 0 are treated as 0
  EXPECT_EQ(blend_exp(-3.0), std::exp(-3.0));
}

TEST(TileRasterizer, PublicInterfaceChecksItsInputs) {
  test::TestScene scene = test::random_scene(2, 20, 32, 24);
  auto rast = make_cpu_rasterizer();
  EXPECT_STREQ(rast->name(), "cpu");
  const RenderOutput out = rast->forward(scene.camera, params_of(scene.model), scene.options);
  EXPECT_EQ(out.color.width, 32);
  EXPECT_EQ(out.color.height, 24);
  EXPECT_EQ(out.color.channels, 3);
  EXPECT_EQ(out.depth.channels, 1);
  EXPECT_EQ(out.alpha.channels, 1);
  EXPECT_EQ(out.extras.channels, 2);
  EXPECT_EQ(out.radii.size(), scene.model.size());
  // Same bits as the templated float instance.
  TileRasterizerT<float> direct;
  TileRenderT<float> d;
  direct.forward(scene.camera, params_of(scene.model), scene.options, d);
  EXPECT_EQ(d.color, out.color.pixels);
  EXPECT_EQ(d.alpha, out.alpha.pixels);

  GaussianGradients g;
  Image wrong(16, 24, 3);
  EXPECT_THROW(rast->backward(scene.camera, params_of(scene.model), scene.options, out, OutputGradients{&wrong}, g),
               Error);
  RenderOutput foreign = out;
  foreign.state.reset();
  Image wc(32, 24, 3, 1.0f);
  EXPECT_THROW(rast->backward(scene.camera, params_of(scene.model), scene.options, foreign, OutputGradients{&wc}, g),
               Error);
  rast->backward(scene.camera, params_of(scene.model), scene.options, out, OutputGradients{&wc}, g);
  const size_t n = scene.model.size();
  EXPECT_EQ(g.means.size(), n * 3);
  EXPECT_EQ(g.log_scales.size(), n * 3);
  EXPECT_EQ(g.rotations.size(), n * 4);
  EXPECT_EQ(g.opacities.size(), n);
  EXPECT_EQ(g.sh.size(), n * 16 * 3);
  EXPECT_EQ(g.extras.size(), n * 2);
  EXPECT_EQ(g.means2d.size(), n * 2);
}

}  // namespace
}  // namespace sp
