#include <gtest/gtest.h>

#include <filesystem>

#include "engine/core/error.h"
#include "engine/io/colmap.h"
#include "engine/io/image_folder.h"
#include "engine/io/image_io.h"
#include "engine/io/llff.h"
#include "engine/io/npy.h"
#include "support/test_support.h"

namespace sp {
namespace {

using ::sp::test::expect_bad_input;

// One poses_bounds row: LLFF columns (down, right, back) given in world coordinates.
std::vector<double> row(glm::dvec3 down, glm::dvec3 right, glm::dvec3 back, glm::dvec3 c, double h, double w, double f,
                        double near, double far) {
  std::vector<double> r(17);
  for (int i = 0; i < 3; ++i) {
    r[size_t(i * 5 + 0)] = down[i];
    r[size_t(i * 5 + 1)] = right[i];
    r[size_t(i * 5 + 2)] = back[i];
    r[size_t(i * 5 + 3)] = c[i];
  }
  r[4] = h;
  r[9] = w;
  r[14] = f;
  r[15] = near;
  r[16] = far;
  return r;
}

NpyArray as_array(const std::vector<double>& data, size_t rows) {
  NpyArray a;
  a.dtype = "<f8";
  a.shape = {rows, data.size() / rows};
  a.data = data;
  return a;
}

TEST(Llff, PoseConversion) {
  // A camera at (1, 2, 3) whose LLFF axes are down = -y, right = +x, back = +z: it looks
  // along -z with +y up, so in our convention R = diag(1, -1, -1).
  const auto r = row({0, -1, 0}, {1, 0, 0}, {0, 0, 1}, {1, 2, 3}, 300, 400, 500, 2, 50);
  const auto views = parse_poses_bounds(as_array(r, 1), "mem");
  ASSERT_EQ(views.size(), 1u);
  const Camera& c = views[0].camera;
  EXPECT_EQ(c.width, 400);
  EXPECT_EQ(c.height, 300);
  EXPECT_EQ(c.fx, 500.0f);
  EXPECT_EQ(c.fy, 500.0f);
  EXPECT_EQ(c.cx, 200.0f);
  EXPECT_EQ(c.cy, 150.0f);
  const glm::mat3 expected(glm::vec3(1, 0, 0), glm::vec3(0, -1, 0), glm::vec3(0, 0, -1));
  EXPECT_EQ(c.R, expected);
  EXPECT_NEAR(glm::length(c.center() - glm::vec3(1, 2, 3)), 0, 1e-6);
  // A point in front of it (smaller z) has positive depth and projects right of centre for +x.
  const glm::vec3 p = c.to_camera(glm::vec3(1.5, 2, 1));
  EXPECT_GT(p.z, 0);
  EXPECT_GT(p.x, 0);
  EXPECT_EQ(views[0].near, 2.0f);
  EXPECT_EQ(views[0].far, 50.0f);
}

TEST(Llff, RejectsBadPoses) {
  auto r = row({0, -1, 0}, {1, 0, 0}, {0, 0, 1}, {1, 2, 3}, 300, 400, 500, 2, 50);
  expect_bad_input([&] { parse_poses_bounds(as_array(std::vector<double>(r.begin(), r.begin() + 15), 1), "pb.npy"); },
                   "expected N x 17");
  auto bad = r;
  bad[0] = 2;  // not orthonormal
  expect_bad_input([&] { parse_poses_bounds(as_array(bad, 1), "pb.npy"); }, "not a rotation");
  bad = row({0, 1, 0}, {1, 0, 0}, {0, 0, 1}, {1, 2, 3}, 300, 400, 500, 2, 50);  // a reflection
  expect_bad_input([&] { parse_poses_bounds(as_array(bad, 1), "pb.npy"); }, "determinant -1");
  bad = r;
  bad[14] = 0;
  expect_bad_input([&] { parse_poses_bounds(as_array(bad, 1), "pb.npy"); }, "focal length");
  bad = r;
  bad[9] = std::nan("");
  expect_bad_input([&] { parse_poses_bounds(as_array(bad, 1), "pb.npy"); }, "row 0: value 9 is not finite");
}

TEST(Llff, FernAtOneEighth) {
  SP_REQUIRE_DATASET(fern, "fern");
  const LlffScene s = read_llff(fern, 8);
  EXPECT_EQ(s.folder.name, "images_8");
  EXPECT_EQ(s.folder.remaining, 1.0);
  ASSERT_EQ(s.views.size(), 20u);
  EXPECT_EQ(s.full_width, 4032);
  EXPECT_EQ(s.full_height, 3024);
  const Camera& c = s.views[0].camera;
  EXPECT_EQ(c.name, "image000.png");
  EXPECT_EQ(c.width, 504);
  EXPECT_EQ(c.height, 378);
  // poses_bounds holds the full-size focal 3260.526; images_8 is 1/8 of 4032 x 3024.
  EXPECT_NEAR(c.fx, 3260.52633288 / 8, 1e-3);  // 407.566
  EXPECT_NEAR(c.fy, 3260.52633288 / 8, 1e-3);
  EXPECT_FLOAT_EQ(c.cx, 252.0f);
  EXPECT_FLOAT_EQ(c.cy, 189.0f);
  EXPECT_NEAR(s.views[0].near, 17.747, 1e-3);
  EXPECT_NEAR(s.views[0].far, 78.257, 1e-3);
  EXPECT_EQ(std::filesystem::path(s.image_paths[19]).filename(), "image019.png");

  // The COLMAP points (same world frame) lie in front of the cameras and mostly inside the
  // images: 99.2% for view 0, 98.2% for view 10 (checked independently with NumPy).
  const ColmapPoints pts = read_colmap_model(fern + "/sparse/0").points;
  for (int v : {0, 10}) {
    const Camera& cam = s.views[size_t(v)].camera;
    size_t front = 0, inside = 0;
    for (size_t i = 0; i < pts.size(); ++i) {
      const glm::vec3 x = cam.to_camera(glm::vec3(pts.xyz[3 * i], pts.xyz[3 * i + 1], pts.xyz[3 * i + 2]));
      if (x.z <= 0) continue;
      ++front;
      const float u = cam.fx * x.x / x.z + cam.cx, w = cam.fy * x.y / x.z + cam.cy;
      inside += u >= 0 && u < 504 && w >= 0 && w < 378;
    }
    EXPECT_EQ(front, pts.size());
    EXPECT_NEAR(double(inside) / pts.size(), v == 0 ? 0.9923 : 0.9825, 0.001);
  }
}

TEST(Llff, FernFolderChoice) {
  SP_REQUIRE_DATASET(fern, "fern");
  // Automatic: no images/, so the finest copy, images_4 (1008 x 756, focal 815.13).
  LlffScene s = read_llff(fern, 0);
  EXPECT_EQ(s.folder.name, "images_4");
  EXPECT_EQ(s.views[0].camera.width, 1008);
  EXPECT_NEAR(s.views[0].camera.fx, 3260.52633288 / 4, 1e-3);
  // Downscale 16: images_8 resized by another 2.
  s = read_llff(fern, 16);
  EXPECT_EQ(s.folder.name, "images_8");
  EXPECT_EQ(s.folder.remaining, 2.0);
  // Downscale 2 would need images/ or images_2/.
  expect_bad_input([&] { read_llff(fern, 2); }, "no image folder for downscale 2 (expected images/ or images_2/; found images_4, images_8)");
}

TEST(Llff, ImageCountMustMatchRows) {
  const std::string dir = test::temp_dir("llff");
  std::filesystem::create_directories(dir + "/images");
  std::vector<double> data;
  for (int i = 0; i < 3; ++i) {
    const auto r = row({0, -1, 0}, {1, 0, 0}, {0, 0, 1}, {double(i), 0, 3}, 8, 12, 10, 1, 9);
    data.insert(data.end(), r.begin(), r.end());
  }
  write_npy(dir + "/poses_bounds.npy", {3, 17}, data.data());
  save_png(dir + "/images/a.png", Image(12, 8, 3, 0.5f));
  save_png(dir + "/images/b.png", Image(12, 8, 3, 0.5f));
  expect_bad_input([&] { read_llff(dir, 0); }, "holds 2 images but");
  save_png(dir + "/images/c.png", Image(12, 8, 3, 0.5f));
  const LlffScene s = read_llff(dir, 0);
  EXPECT_EQ(s.views.size(), 3u);
  EXPECT_EQ(s.views[2].camera.name, "c.png");
  // Portrait files for a landscape poses_bounds: refused, not silently stretched.
  for (const char* n : {"a", "b", "c"}) save_png(dir + "/images/" + n + ".png", Image(8, 12, 3, 0.5f));
  expect_bad_input([&] { read_llff(dir, 0); }, "different aspect ratio");
}

TEST(Llff, AllOfficialPosesBoundsParse) {
  SP_REQUIRE_DATASET(poses, "llff_poses");
  const std::pair<const char*, size_t> scenes[] = {{"fern", 20},    {"flower", 34}, {"fortress", 42}, {"horns", 62},
                                                   {"leaves", 26},  {"orchids", 25}, {"room", 41},   {"trex", 55}};
  for (const auto& [name, n] : scenes) {
    const auto v = read_poses_bounds(poses + "/" + name + "/poses_bounds.npy");
    EXPECT_EQ(v.size(), n) << name;
    EXPECT_EQ(v[0].camera.width, 4032) << name;
    EXPECT_EQ(v[0].camera.height, 3024) << name;
    for (const auto& view : v) EXPECT_LT(view.near, view.far) << name;
  }
}

}  // namespace
}  // namespace sp
