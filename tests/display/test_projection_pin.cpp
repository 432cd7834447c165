// Pins the GLSL projection and tile bounds (shaders/project.comp, which cannot include C++)
// to the functions the CPU and CUDA rasterizers call: project_gaussian() (engine/render/
// project.h) and splat_footprint() / footprint_pixels() (engine/render/tile_bounds.h).
// project.comp's probe (shaders/splat_probe.glsl) reports, per Gaussian, what it computed:
// whether and why it was culled, the screen radius, the 3σ/ellipse tile box, the ellipse's
// pixel box, the quad's rectangle, mean, depth, q_max, Σ2D, conic and opacity. This test
// compares them with the C++ on 6000 random Gaussians made to hit the edge cases, and the
// shader's constants with the C++ constants. If either side changes, it fails.
//
// What "the same" means here:
//   constants   equal as float (tile size, cull margin, 1/255, 0.99, 30, 0.3 low-pass, and
//               the 1.3 tan(fov/2) clamp the shader receives).
//   floats      relative error <= 2e-5 of the quantity's scale (mean: max(|m|, image size);
//               Σ2D and conic: their largest entry; depth: |z|) and q_max, opacity within
//               2e-6: lavapipe's exp/log/sqrt and contraction differ from glibc's by ulps.
//   integers    culling status, radius, tile box, pixel box and quad rectangle equal the C++
//               exactly, except where float rounding upstream moved a boundary: such a
//               Gaussian must then agree exactly with the C++ function applied to the
//               shader's own floats, and there may be at most 0.2% of them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "display/display_test_support.h"
#include "engine/core/rng.h"
#include "engine/display/splat_renderer.h"
#include "engine/render/project.h"
#include "engine/render/tile_bounds.h"
#include "render/render_test_scene.h"

namespace sp {
namespace {

// A Gaussian at camera-space p_cam with screen sizes (sx, sy, sz) pixels along random axes.
void add(test::TestScene& s, Rng& rng, glm::vec3 p_cam, glm::vec3 sigma_px, float logit, bool zero_quat = false) {
  GaussianModel& m = s.model;
  const Camera& c = s.camera;
  const size_t i = m.size();
  m.resize(i + 1);
  const glm::vec3 p = glm::transpose(c.R) * (p_cam - c.t);
  const float z = std::max(std::abs(p_cam.z), 0.05f);
  for (int k = 0; k < 3; ++k) {
    m.means[i * 3 + k] = p[k];
    m.log_scales[i * 3 + k] = std::log(sigma_px[k] * z / c.fx);
  }
  for (int k = 0; k < 4; ++k) m.rotations[i * 4 + k] = zero_quat ? 0.0f : rng.normal();
  m.opacities[i] = logit;
  const int K = m.sh_coeffs();
  for (int k = 0; k < K * 3; ++k) m.sh[i * K * 3 + k] = rng.normal(0.0f, 0.5f);
}

test::TestScene edge_case_scene(uint64_t seed, int n) {
  Rng rng(seed);
  test::TestScene s;
  Camera& c = s.camera;
  c.width = 203;  // not a multiple of the tile size
  c.height = 157;
  c.fx = 160.0f;
  c.fy = 150.0f;
  c.cx = 0.5f * float(c.width) + 3.3f;
  c.cy = 0.5f * float(c.height) - 2.1f;
  const float q[4] = {1.0f, 0.1f, -0.05f, 0.08f};
  c.R = quat_to_rotation(q);
  c.t = glm::vec3(0.1f, -0.2f, 0.3f);
  s.model.sh_degree = 1;
  s.options.sh_degree = 1;
  const float W = float(c.width), H = float(c.height);
  auto at = [&](float px, float py, float z) { return glm::vec3((px - c.cx) / c.fx * z, (py - c.cy) / c.fy * z, z); };
  auto iso = [](float v) { return glm::vec3(v); };
  for (int i = 0; i < n; ++i) {
    const float z = rng.uniform(0.5f, 12.0f);
    const float px = rng.uniform(-0.2f, 1.2f) * W, py = rng.uniform(-0.2f, 1.2f) * H;
    const bool zero_quat = i % 97 == 0;
    switch (i % 10) {
      case 0:  // ordinary
        add(s, rng, at(px, py, z), iso(rng.uniform(1.0f, 6.0f)), rng.uniform(-2.0f, 4.0f), zero_quat);
        break;
      case 1: {  // around the image border
        const float bx = rng.uniform() < 0.5f ? rng.uniform(-20.0f, 20.0f) : W + rng.uniform(-20.0f, 20.0f);
        const float by = rng.uniform() < 0.5f ? rng.uniform(-20.0f, 20.0f) : H + rng.uniform(-20.0f, 20.0f);
        const bool corner = rng.uniform() < 0.3f;
        add(s, rng, at(corner || rng.uniform() < 0.5f ? bx : px, corner || rng.uniform() < 0.5f ? py : by, z),
            iso(rng.uniform(0.5f, 15.0f)), rng.uniform(-3.0f, 4.0f), zero_quat);
        break;
      }
      case 2:  // very anisotropic: a needle or a sheet
        add(s, rng, at(px, py, z),
            glm::vec3(rng.uniform(30.0f, 200.0f), rng.uniform(0.02f, 0.5f), rng.uniform(0.02f, 200.0f)),
            rng.uniform(-1.0f, 5.0f), zero_quat);
        break;
      case 3:  // tiny: Σ2D is the 0.3 low-pass
        add(s, rng, at(px, py, z), iso(rng.uniform(0.001f, 0.2f)), rng.uniform(-1.0f, 6.0f), zero_quat);
        break;
      case 4:  // huge: far larger than the image
        add(s, rng, at(px, py, z), iso(rng.uniform(100.0f, 3000.0f)), rng.uniform(-3.0f, 2.0f), zero_quat);
        break;
      case 5:  // low opacity around the 1/255 cutoff (o from 0.0015 to 0.011)
        add(s, rng, at(px, py, z), iso(rng.uniform(1.0f, 20.0f)), rng.uniform(-6.5f, -4.5f), zero_quat);
        break;
      case 6: {  // beyond 1.3 tan(fov/2): x/z, y/z clamped inside J
        const float lim_x = float(kFrustumClamp) * 0.5f * W / c.fx, lim_y = float(kFrustumClamp) * 0.5f * H / c.fy;
        const float ux = (rng.uniform() < 0.5f ? -1.0f : 1.0f) * lim_x * rng.uniform(1.02f, 2.5f);
        const float uy = rng.uniform() < 0.5f ? (rng.uniform() < 0.5f ? -1.0f : 1.0f) * lim_y * rng.uniform(1.02f, 2.5f)
                                              : rng.uniform(-lim_y, lim_y);
        add(s, rng, glm::vec3(ux * z, uy * z, z), iso(rng.uniform(5.0f, 150.0f)), rng.uniform(-1.0f, 4.0f), zero_quat);
        break;
      }
      case 7:  // about the near plane (0.2): some culled
        add(s, rng, at(px, py, rng.uniform(0.1f, 0.4f)), iso(rng.uniform(1.0f, 30.0f)), rng.uniform(-1.0f, 4.0f),
            zero_quat);
        break;
      case 8:  // nearly opaque (α clamped at 0.99)
        add(s, rng, at(px, py, z), iso(rng.uniform(1.0f, 10.0f)), rng.uniform(5.0f, 12.0f), zero_quat);
        break;
      default:  // off the image, or behind the camera
        if (rng.uniform() < 0.5f)
          add(s, rng, at(rng.uniform() < 0.5f ? -3.0f * W : 4.0f * W, py, z), iso(rng.uniform(1.0f, 20.0f)),
              rng.uniform(-1.0f, 4.0f));
        else
          add(s, rng, at(px, py, -z), iso(rng.uniform(1.0f, 20.0f)), rng.uniform(-1.0f, 4.0f));
        break;
    }
  }
  return s;
}

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

// The C++ answer for one Gaussian, in the probe's layout.
struct Expected {
  int status = 0, radius = 0;
  TileRect tiles;
  int pixels[4] = {0, -1, 0, -1};
  PixelRect rect;
  float q_max = 0;
};
Expected footprint_of(const Vec2T<float>& mean, int radius, const Sym2T<float>& cov, float opacity, int W, int H) {
  Expected e;
  const SplatFootprintT<float> f = splat_footprint(mean, radius, cov, opacity, W, H);
  e.status = int(f.kind);
  e.radius = radius;
  e.tiles = f.tiles;
  e.q_max = f.q_max;
  if (f.kind != Footprint::OffImage && f.q_max > 0.0f) {
    e.pixels[0] = f.col0;
    e.pixels[1] = f.col1;
    e.pixels[2] = f.row0;
    e.pixels[3] = f.row1;
  }
  if (f.kind == Footprint::Listed) e.rect = footprint_pixels(f);
  return e;
}

// Whether the probe's integers equal `e` (tiles and pixels only where the shader sets them).
bool same_integers(const SplatProbe& p, const Expected& e) {
  if (p.status != e.status) return false;
  if (e.status == 0) return true;
  if (p.radius != e.radius) return false;
  if (e.status == int(Footprint::OffImage)) return true;  // the shader's box there is not used
  const int tiles[4] = {e.tiles.x0, e.tiles.x1, e.tiles.y0, e.tiles.y1};
  for (int k = 0; k < 4; ++k)
    if (p.tiles[k] != tiles[k] || p.pixels[k] != e.pixels[k]) return false;
  if (e.status == int(Footprint::Listed)) {
    const int rect[4] = {e.rect.x0, e.rect.x1, e.rect.y0, e.rect.y1};
    for (int k = 0; k < 4; ++k)
      if (p.rect[k] != rect[k]) return false;
  }
  return true;
}

double rel(double a, double b, double scale) { return std::abs(a - b) / std::max(scale, 1e-30); }

TEST(ProjectionPin, ShaderConstantsAreTheCppConstants) {
  SP_REQUIRE_VULKAN(dev, true);
  SplatRenderer gpu(*dev);
  const test::TestScene s = edge_case_scene(1, 10);
  gpu.set_model(s.model);
  SplatProbeConstants k;
  gpu.probe(s.camera, s.options, &k);
  using B = BlendConstants<float>;
  EXPECT_EQ(k.tile_size, kTileSize);
  EXPECT_EQ(k.cull_margin, float(kCullMargin));
  EXPECT_EQ(k.min_alpha_reciprocal, float(kMinAlphaReciprocal));
  EXPECT_EQ(k.min_alpha, B::kMinAlpha);
  EXPECT_EQ(k.max_alpha, B::kMaxAlpha);
  EXPECT_EQ(k.far_exponent, B::kFarExponent);
  EXPECT_EQ(k.covariance_blur, float(kCovarianceBlur));
  // The 1.3 tan(fov/2) clamp reaches the shader as a push constant: projection_camera()'s.
  const ProjectionCameraT<float> cam = projection_camera<float>(s.camera, s.options.near_plane);
  EXPECT_EQ(k.lim_x, cam.lim_x);
  EXPECT_EQ(k.lim_y, cam.lim_y);
  EXPECT_FLOAT_EQ(k.lim_x, float(kFrustumClamp) * 0.5f * float(s.camera.width) / s.camera.fx);
  EXPECT_FLOAT_EQ(k.lim_y, float(kFrustumClamp) * 0.5f * float(s.camera.height) / s.camera.fy);
  EXPECT_EQ(dev->validation_messages(), 0u);
}

TEST(ProjectionPin, ShaderProjectionAndTileBoundsAreTheCppFunctions) {
  SP_REQUIRE_VULKAN(dev, true);
  SplatRenderer gpu(*dev);
  const test::TestScene s = edge_case_scene(2, 6000);
  gpu.set_model(s.model);
  const std::vector<SplatProbe> got = gpu.probe(s.camera, s.options);
  ASSERT_EQ(got.size(), s.model.size());
  const ProjectionCameraT<float> cam = projection_camera<float>(s.camera, s.options.near_plane);
  const int W = s.camera.width, H = s.camera.height;
  const int tiles_x = tile_count(W), tiles_y = tile_count(H);

  int by_status[4] = {};
  int exact = 0, rounding = 0, border = 0, clamped = 0, faint_q = 0;
  double worst_mean = 0, worst_depth = 0, worst_cov = 0, worst_conic = 0, worst_q = 0, worst_o = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const SplatProbe& p = got[i];
    const GaussianModel& m = s.model;
    ProjectedGaussianT<float> pg;
    const bool projected = project_gaussian(cam, m.means.data() + i * 3, m.log_scales.data() + i * 3,
                                            m.rotations.data() + i * 4, pg);
    const float opacity = sigmoid(m.opacities[i]);
    Expected e;
    if (projected) e = footprint_of(pg.mean2d, pg.radius, pg.cov2d, opacity, W, H);
    if (e.status >= 0 && e.status < 4) ++by_status[e.status];

    // The floats, wherever both computed them.
    if (projected && p.status != 0) {
      const double ms = std::max({std::abs(double(pg.mean2d.x)), std::abs(double(pg.mean2d.y)), double(W)});
      const double cs = std::max(std::abs(double(pg.cov2d.a)), std::abs(double(pg.cov2d.c)));
      // The conic against the C++ inverse of the shader's own Σ2D: for needle-like Gaussians
      // det Σ2D cancels, and the ulps by which the two Σ2D differ grow large in the inverse.
      Sym2T<float> own_conic;
      const bool invertible = invert_covariance(Sym2T<float>{p.cov[0], p.cov[1], p.cov[2]}, own_conic);
      EXPECT_TRUE(invertible) << "Gaussian " << i;
      const double ks = std::max(std::abs(double(own_conic.a)), std::abs(double(own_conic.c)));
      worst_mean = std::max({worst_mean, rel(p.mean[0], pg.mean2d.x, ms), rel(p.mean[1], pg.mean2d.y, ms)});
      worst_depth = std::max(worst_depth, rel(p.depth, pg.depth, std::abs(pg.depth)));
      worst_cov = std::max({worst_cov, rel(p.cov[0], pg.cov2d.a, cs), rel(p.cov[1], pg.cov2d.b, cs),
                            rel(p.cov[2], pg.cov2d.c, cs)});
      worst_conic = std::max({worst_conic, rel(p.conic[0], own_conic.a, ks), rel(p.conic[1], own_conic.b, ks),
                              rel(p.conic[2], own_conic.c, ks)});
      worst_o = std::max(worst_o, double(std::abs(p.opacity - opacity)));
      if (e.status != int(Footprint::OffImage)) worst_q = std::max(worst_q, double(std::abs(p.q_max - e.q_max)));
      const glm::vec3 pc = glm::mat3(s.camera.R) * glm::vec3(m.means[i * 3], m.means[i * 3 + 1], m.means[i * 3 + 2]) +
                           s.camera.t;
      if (std::abs(pc.x / pc.z) > cam.lim_x || std::abs(pc.y / pc.z) > cam.lim_y) ++clamped;
    }
    if (e.status == int(Footprint::Faint) && !(e.q_max > 0.0f)) ++faint_q;
    if (e.status == int(Footprint::Listed) &&
        (e.tiles.x0 == 0 || e.tiles.y0 == 0 || e.tiles.x1 == tiles_x || e.tiles.y1 == tiles_y))
      ++border;

    // The integers: exact, or explained by the floats' rounding.
    if (same_integers(p, e)) {
      ++exact;
      continue;
    }
    ++rounding;
    if (p.status == 0 || !projected) {
      ADD_FAILURE() << "Gaussian " << i << ": culled by the projection on one side only (shader status " << p.status
                    << ", C++ " << e.status << ")";
      continue;
    }
    // The C++ function on the shader's own floats must give the shader's integers.
    const Sym2T<float> cov{p.cov[0], p.cov[1], p.cov[2]};
    const Expected own = footprint_of(Vec2T<float>(p.mean[0], p.mean[1]), p.radius, cov, p.opacity, W, H);
    const int r_own = screen_radius(cov);
    EXPECT_TRUE(same_integers(p, own) && std::abs(r_own - p.radius) <= 1 && std::abs(p.radius - e.radius) <= 1)
        << "Gaussian " << i << ": shader status " << p.status << " radius " << p.radius << " tiles [" << p.tiles[0]
        << ", " << p.tiles[1] << ") x [" << p.tiles[2] << ", " << p.tiles[3] << ") pixels " << p.pixels[0] << ".."
        << p.pixels[1] << " x " << p.pixels[2] << ".." << p.pixels[3] << "; C++ status " << e.status << " radius "
        << e.radius << " tiles [" << e.tiles.x0 << ", " << e.tiles.x1 << ") x [" << e.tiles.y0 << ", " << e.tiles.y1
        << ")";
  }
  std::printf("[ glsl vs c++ ] %zu Gaussians: culled %d, off image %d, faint %d (q_max <= 0: %d), drawn %d "
              "(%d at the border), %d beyond the 1.3 clamp\n",
              got.size(), by_status[0], by_status[1], by_status[2], faint_q, by_status[3], border, clamped);
  std::printf("[ glsl vs c++ ] integers exact for %d, %d moved by float rounding; worst relative error: mean %.1e, "
              "depth %.1e, cov %.1e, conic %.1e; q_max %.1e, opacity %.1e\n",
              exact, rounding, worst_mean, worst_depth, worst_cov, worst_conic, worst_q, worst_o);
  EXPECT_LE(worst_mean, 2e-5);
  EXPECT_LE(worst_depth, 2e-5);
  EXPECT_LE(worst_cov, 2e-5);
  EXPECT_LE(worst_conic, 2e-5);
  EXPECT_LE(worst_q, 2e-6);
  EXPECT_LE(worst_o, 2e-6);
  EXPECT_LE(rounding, int(got.size()) / 500);
  // The scene reaches every case it is meant to.
  for (int k = 0; k < 4; ++k) EXPECT_GT(by_status[k], 50) << "status " << k;
  EXPECT_GT(faint_q, 20);
  EXPECT_GT(border, 100);
  EXPECT_GT(clamped, 300);
  EXPECT_EQ(dev->validation_messages(), 0u);
}

}  // namespace
}  // namespace sp
