// Plane-sweep stereo on a ray-cast scene with known depth: a textured back wall and a
// textured slanted card in front of it, seen by three cameras 0.4 apart (a DTU-like 3-view
// rig). Spec: on the pixels kept after the consistency filter, the median relative depth
// error is below 0.5% and 95% of them are within 2%; at least 50% of the pixels are kept.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <vector>

#include <filesystem>
#include <fstream>

#include <glm/glm.hpp>
#include <glm/gtc/quaternion.hpp>

#include "engine/io/image_io.h"
#include "engine/scene/plane_sweep.h"
#include "support/test_support.h"

namespace sp {
namespace {

// Smooth value noise in [0, 1] on a lattice of the given cell size (world units).
float hash01(int64_t x, int64_t y, uint32_t seed) {
  uint64_t h = uint64_t(x) * 0x9E3779B97F4A7C15ULL ^ (uint64_t(y) + 0x632BE59BD9B4E019ULL) * 0xC2B2AE3D27D4EB4FULL ^ seed;
  h ^= h >> 29;
  h *= 0xBF58476D1CE4E5B9ULL;
  h ^= h >> 32;
  return float(h & 0xFFFFFF) / float(0xFFFFFF);
}
float noise(float u, float v, float cell, uint32_t seed) {
  const float x = u / cell, y = v / cell;
  const int64_t x0 = int64_t(std::floor(x)), y0 = int64_t(std::floor(y));
  const float fx = x - float(x0), fy = y - float(y0);
  const float a = hash01(x0, y0, seed), b = hash01(x0 + 1, y0, seed), c = hash01(x0, y0 + 1, seed),
              d = hash01(x0 + 1, y0 + 1, seed);
  return (1 - fy) * ((1 - fx) * a + fx * b) + fy * ((1 - fx) * c + fx * d);
}

// Wall z = 5 (world); card: the plane z = 3.2 + 0.3 x for |x| < 0.6, |y| < 0.5.
struct Hit {
  float t = 0;
  glm::vec3 rgb{0};
};
Hit cast(const glm::vec3& o, const glm::vec3& d) {
  Hit best{1e30f, {}};
  const float tc = (3.2f + 0.3f * o.x - o.z) / (d.z - 0.3f * d.x);
  const glm::vec3 pc = o + tc * d;
  if (tc > 0 && std::abs(pc.x) < 0.6f && std::abs(pc.y) < 0.5f) {
    const float n = noise(pc.x, pc.y, 0.04f, 7u);
    best = {tc, glm::vec3(0.2f + 0.7f * n, 0.3f + 0.4f * n, 0.8f - 0.6f * n)};
  }
  const float tw = (5.0f - o.z) / d.z;
  if (tw > 0 && tw < best.t) {
    const glm::vec3 pw = o + tw * d;
    const float n = noise(pw.x, pw.y, 0.06f, 11u);
    best = {tw, glm::vec3(n, 0.5f * n + 0.25f, 1.0f - n)};
  }
  return best;
}

struct Rig {
  std::vector<Camera> cams;
  std::vector<Image> images;
  std::vector<std::vector<float>> depth;  // ground-truth camera z per pixel
};

// `varied`: each view its own size and principal point, as COLMAP's undistorter writes them
// (1000x656, 1000x662...).
Rig make_rig(int w0, int h0, bool varied = false) {
  Rig rig;
  for (int v = 0; v < 3; ++v) {
    Camera c;
    const int w = varied ? w0 + 6 * v : w0, h = varied ? h0 - 4 * v : h0;
    c.width = w;
    c.height = h;
    c.fx = c.fy = 0.9f * float(w0);
    c.cx = 0.5f * float(w) + (varied ? 2.5f * float(v) : 0.0f);
    c.cy = 0.5f * float(h) - (varied ? 1.5f * float(v) : 0.0f);
    // Centres on a line, each turned towards the card's middle (0, 0, 3.2).
    const glm::vec3 centre(-0.4f + 0.4f * float(v), 0.1f * float(v - 1), 0.0f);
    const glm::vec3 f = glm::normalize(glm::vec3(0, 0, 3.2f) - centre);
    const glm::vec3 right = glm::normalize(glm::cross(glm::vec3(0, 1, 0), f));
    const glm::vec3 down = glm::cross(f, right);
    glm::mat3 Rt(right, down, f);  // columns: camera axes in world
    c.R = glm::transpose(Rt);
    c.t = -c.R * centre;
    Image img(w, h, 3);
    std::vector<float> z(size_t(w) * size_t(h));
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        // 3x3 supersampling; depth from the centre ray.
        glm::vec3 acc(0);
        for (int sy = 0; sy < 3; ++sy)
          for (int sx = 0; sx < 3; ++sx) {
            const glm::vec3 dc((float(x) + (float(sx) + 0.5f) / 3.0f - c.cx) / c.fx,
                               (float(y) + (float(sy) + 0.5f) / 3.0f - c.cy) / c.fy, 1.0f);
            acc += cast(centre, Rt * dc).rgb;
          }
        for (int k = 0; k < 3; ++k) img.at(x, y, k) = acc[k] / 9.0f;
        const glm::vec3 dc((float(x) + 0.5f - c.cx) / c.fx, (float(y) + 0.5f - c.cy) / c.fy, 1.0f);
        z[size_t(y) * size_t(w) + size_t(x)] = cast(centre, Rt * dc).t;  // |dc.z| = 1: t is camera z
      }
    rig.cams.push_back(c);
    rig.images.push_back(img);
    rig.depth.push_back(z);
  }
  return rig;
}

class PlaneSweepRig : public testing::TestWithParam<bool> {};
INSTANTIATE_TEST_SUITE_P(SameAndPerViewSizes, PlaneSweepRig, testing::Bool());

TEST_P(PlaneSweepRig, DepthOfARayCastSceneWithinTolerance) {
  const Rig rig = make_rig(160, 120, GetParam());
  PlaneSweepOptions o;
  o.depth_planes = 96;
  std::vector<DepthMap> maps;
  for (int r = 0; r < 3; ++r) maps.push_back(plane_sweep_depth(rig.cams, rig.images, r, 2.5f, 7.0f, o));
  filter_depth_consistency(maps, o);
  for (int r = 0; r < 3; ++r) {
    std::vector<float> rel;
    for (size_t i = 0; i < maps[size_t(r)].depth.size(); ++i)
      if (maps[size_t(r)].depth[i] > 0)
        rel.push_back(std::abs(maps[size_t(r)].depth[i] - rig.depth[size_t(r)][i]) / rig.depth[size_t(r)][i]);
    const double kept = double(rel.size()) / double(maps[size_t(r)].depth.size());
    ASSERT_GT(kept, 0.5) << "view " << r;
    std::sort(rel.begin(), rel.end());
    EXPECT_LT(rel[rel.size() / 2], 0.005f) << "view " << r;
    EXPECT_LT(rel[size_t(0.95 * double(rel.size()))], 0.02f) << "view " << r << " kept " << kept;
    std::printf("view %d: kept %.1f%%, relative depth error median %.4f, 95th percentile %.4f\n", r, 100 * kept,
                rel[rel.size() / 2], rel[size_t(0.95 * double(rel.size()))]);
  }
}

TEST(PlaneSweep, ConsistencyFilterDropsAMapTheOthersContradict) {
  const Rig rig = make_rig(96, 72);
  PlaneSweepOptions o;
  o.depth_planes = 64;
  std::vector<DepthMap> maps;
  for (int r = 0; r < 3; ++r) maps.push_back(plane_sweep_depth(rig.cams, rig.images, r, 2.5f, 7.0f, o));
  // View 0 claims everything is 20% further: the other views confirm none of it but the
  // odd pixel where the scaled depth happens to land on another surface.
  size_t before0 = 0, kept0 = 0, kept1 = 0;
  for (float& d : maps[0].depth) {
    before0 += d > 0;
    d *= 1.2f;
  }
  filter_depth_consistency(maps, o);
  for (float d : maps[0].depth) kept0 += d > 0;
  for (float d : maps[1].depth) kept1 += d > 0;
  ASSERT_GT(before0, maps[0].depth.size() / 2);
  EXPECT_LE(kept0, before0 / 200);
  EXPECT_GT(kept1, maps[1].depth.size() / 3);  // views 1 and 2 still confirm each other
}

TEST(PlaneSweep, FusedPointsLieOnTheSurfacesWithTheirColours) {
  const Rig rig = make_rig(96, 72);
  PlaneSweepOptions o;
  o.depth_planes = 64;
  o.max_points = 2000;
  std::vector<DepthMap> maps;
  for (int r = 0; r < 3; ++r) maps.push_back(plane_sweep_depth(rig.cams, rig.images, r, 2.5f, 7.0f, o));
  filter_depth_consistency(maps, o);
  const PointCloud pc = fuse_depth_maps(maps, rig.images, o);
  ASSERT_EQ(pc.size(), 2000u);
  size_t on_surface = 0;
  for (size_t i = 0; i < pc.size(); ++i) {
    const glm::vec3 p(pc.xyz[3 * i], pc.xyz[3 * i + 1], pc.xyz[3 * i + 2]);
    const bool wall = std::abs(p.z - 5.0f) < 0.1f;
    const bool card = std::abs(p.z - (3.2f + 0.3f * p.x)) < 0.07f && std::abs(p.x) < 0.65f;
    on_surface += wall || card;
    for (int c = 0; c < 3; ++c) ASSERT_TRUE(pc.rgb[3 * i + size_t(c)] >= 0.0f && pc.rgb[3 * i + size_t(c)] <= 1.0f);
  }
  EXPECT_GT(double(on_surface) / double(pc.size()), 0.97);
}

// A COLMAP text model of the rig with one camera per image at its own size (what COLMAP's
// image undistorter writes) goes through Dataset and mvs_points: the default start of
// `recon` on such captures.
TEST(PlaneSweep, ColmapDatasetWithPerImageSizesGivesPointsOnTheSurfaces) {
  const Rig rig = make_rig(96, 72, true);
  const std::string dir = test::temp_dir("mvs-sizes");
  std::filesystem::create_directories(dir + "/images");
  std::filesystem::create_directories(dir + "/sparse/0");
  std::ofstream cams(dir + "/sparse/0/cameras.txt"), imgs(dir + "/sparse/0/images.txt");
  std::ofstream(dir + "/sparse/0/points3D.txt") << "";
  // Image 0 by name ("held_out", a copy of view 0) is the hold-out rule's test view.
  for (int k = 0; k < 4; ++k) {
    const int v = std::max(0, k - 1);
    const Camera& c = rig.cams[size_t(v)];
    const std::string name = k == 0 ? "held_out.png" : "view" + std::to_string(v) + ".png";
    cams << k + 1 << " PINHOLE " << c.width << " " << c.height << " " << c.fx << " " << c.fy << " " << c.cx << " "
         << c.cy << "\n";
    const glm::quat q = glm::quat_cast(c.R);
    imgs << k + 1 << " " << q.w << " " << q.x << " " << q.y << " " << q.z << " " << c.t.x << " " << c.t.y << " "
         << c.t.z << " " << k + 1 << " " << name << "\n\n";
    save_png(dir + "/images/" + name, rig.images[size_t(v)]);
  }
  cams.close();
  imgs.close();
  const Dataset data = Dataset::load(dir);
  ASSERT_EQ(data.train_ids, (std::vector<int>{1, 2, 3}));
  ASSERT_NE(data.cameras[1].width, data.cameras[3].width);
  PlaneSweepOptions o;
  o.depth_planes = 64;
  o.near_depth = 2.5f;
  o.far_depth = 7.0f;
  const PointCloud pc = mvs_points(data, o);
  ASSERT_GT(pc.size(), 1000u);
  size_t on_surface = 0;
  for (size_t i = 0; i < pc.size(); ++i) {
    const glm::vec3 p(pc.xyz[3 * i], pc.xyz[3 * i + 1], pc.xyz[3 * i + 2]);
    on_surface += std::abs(p.z - 5.0f) < 0.1f || (std::abs(p.z - (3.2f + 0.3f * p.x)) < 0.07f && std::abs(p.x) < 0.65f);
  }
  EXPECT_GT(double(on_surface) / double(pc.size()), 0.95);
}

TEST(PlaneSweep, DownsampleBoxAveragesBlocks) {
  Image im(4, 2, 1);
  for (int x = 0; x < 4; ++x) {
    im.at(x, 0, 0) = float(x);
    im.at(x, 1, 0) = float(x + 4);
  }
  const Image d = downsample_box(im, 2);
  ASSERT_EQ(d.width, 2);
  ASSERT_EQ(d.height, 1);
  EXPECT_FLOAT_EQ(d.at(0, 0, 0), (0 + 1 + 4 + 5) / 4.0f);
  EXPECT_FLOAT_EQ(d.at(1, 0, 0), (2 + 3 + 6 + 7) / 4.0f);
}

}  // namespace
}  // namespace sp
