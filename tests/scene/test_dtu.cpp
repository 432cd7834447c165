// DTU in IDR/NeuS layout (images/, mask/, cameras_sphere.npz): format detection, cameras in
// the unit-sphere frame, the DTU sparse-view protocol split, masks.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <glm/glm.hpp>
#include <glm/gtc/matrix_transform.hpp>

#include "engine/core/atomic_file.h"
#include "engine/core/error.h"
#include "engine/io/image_io.h"
#include "engine/io/npy.h"
#include "engine/scene/dataset.h"
#include "engine/scene/dataset_split.h"
#include "support/test_support.h"

namespace sp {
namespace {
namespace fs = std::filesystem;

using ::sp::test::expect_bad_input;

// ---- the shared protocol split ----

TEST(DtuProtocolSplit, FirstNOfTheProtocolListSortedAnd25TestViews) {
  const Split s = dtu_protocol_split(49, 3, "scene");
  EXPECT_EQ(s.train, (std::vector<int>{22, 25, 28}));
  EXPECT_EQ(s.test, (std::vector<int>{1, 2, 9, 10, 11, 12, 14, 15, 23, 24, 26, 27, 29, 30, 31, 32, 33, 34, 35, 41, 42,
                                      43, 45, 46, 47}));
  EXPECT_NE(s.protocol.find("[25, 22, 28]"), std::string::npos) << s.protocol;
  EXPECT_EQ(dtu_protocol_split(49, 9).train, (std::vector<int>{0, 8, 13, 22, 25, 28, 40, 44, 48}));
}

TEST(DtuProtocolSplit, ZeroTrainViewsTakesEveryNonTestView) {
  const Split s = dtu_protocol_split(64, 0);
  EXPECT_EQ(s.test.size(), 25u);
  EXPECT_EQ(s.train.size(), 64u - 25u);
  for (int id : s.train) EXPECT_FALSE(std::binary_search(s.test.begin(), s.test.end(), id)) << id;
}

TEST(DtuProtocolSplit, RejectsTooFewViewsOrTooManyTrainViews) {
  expect_bad_input([] { dtu_protocol_split(48, 3, "tiny"); }, "49");
  expect_bad_input([] { dtu_protocol_split(49, 10, "scene"); }, "9 train views");
}

// ---- a synthetic IDR scene with known cameras ----

constexpr int kW = 64, kH = 48;

struct KnownView {
  glm::dmat3 R;   // world -> camera, normalized frame
  glm::dvec3 t;   // normalized frame
};

// Exactly representable intrinsics, so float storage of the camera loses nothing.
constexpr double kFx = 50.0, kFy = 52.0, kCx = 31.5, kCy = 23.25;
constexpr double kScale = 2.5;                       // scale_mat: x_dtu = kScale * x_n + kCentre
const glm::dvec3 kCentre(100.0, -40.0, 600.0);

std::vector<KnownView> known_views() {
  std::vector<KnownView> v;
  const glm::dvec3 axes[3] = {{0, 1, 0}, {1, 0.3, 0}, {0.2, -1, 0.5}};
  const double angles[3] = {0.3, -0.5, 1.1};
  const glm::dvec3 ts[3] = {{0.25, -0.5, 3.0}, {0.0, 0.125, 2.5}, {-0.375, 0.0, 4.0}};
  for (int i = 0; i < 3; ++i)
    v.push_back({glm::dmat3(glm::rotate(glm::dmat4(1.0), angles[i], glm::normalize(axes[i]))), ts[i]});
  return v;
}

// Row-major 4x4 matrices as NumPy writes them.
using Mat4 = std::array<double, 16>;

// world_mat = lambda * [K 0; 0 1] @ [R t; 0 1] in DTU's frame, with R_dtu = R_n and
// t_dtu = kScale * t_n - R_n kCentre (so that world_mat @ scale_mat = lambda kScale K [R_n | t_n]).
Mat4 world_mat(const KnownView& v, double lambda) {
  const glm::dvec3 t = kScale * v.t - v.R * kCentre;
  const double K[3][3] = {{kFx, 0, kCx}, {0, kFy, kCy}, {0, 0, 1}};
  Mat4 m{};
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) {
      double s = 0;
      for (int k = 0; k < 3; ++k) s += K[r][k] * v.R[c][k];
      m[size_t(r * 4 + c)] = lambda * s;
    }
    double s = 0;
    for (int k = 0; k < 3; ++k) s += K[r][k] * t[k];
    m[size_t(r * 4 + 3)] = lambda * s;
  }
  m[15] = lambda;
  return m;
}

Mat4 scale_mat() {
  return {kScale, 0, 0, kCentre.x, 0, kScale, 0, kCentre.y, 0, 0, kScale, kCentre.z, 0, 0, 0, 1};
}

void write_text(const std::string& path, const std::string& text) {
  write_file_atomic(path, [&](std::ostream& out) { out << text; });
}

using Entries = std::vector<std::pair<std::string, std::string>>;

Entries idr_entries() {
  Entries e;
  const auto views = known_views();
  for (size_t i = 0; i < views.size(); ++i) {
    const Mat4 w = world_mat(views[i], 1.0 + 0.75 * double(i)), s = scale_mat();
    e.emplace_back("world_mat_" + std::to_string(i), encode_npy({4, 4}, w.data()));
    e.emplace_back("scale_mat_" + std::to_string(i), encode_npy({4, 4}, s.data()));
  }
  return e;
}

// root/images/00000i.png, root/mask/00i.png (3-channel), root/cameras_sphere.npz, and a
// decoy poses_bounds.npy that must not be read.
std::string make_idr_scene(const std::string& label, const Entries& entries) {
  const std::string root = test::temp_dir(label);
  fs::create_directories(root + "/images");
  fs::create_directories(root + "/mask");
  for (int i = 0; i < 3; ++i) {
    Image im(kW, kH, 3, float(i + 1) / 8.0f);
    save_png(root + "/images/00000" + std::to_string(i) + ".png", im);
    Image m(kW, kH, 3, 0.0f);
    for (int y = 10; y < 30; ++y)
      for (int x = 20; x < 40; ++x) m.at(x, y, 0) = m.at(x, y, 1) = m.at(x, y, 2) = 1.0f;
    save_png(root + "/mask/00" + std::to_string(i) + ".png", m);
  }
  write_npz(root + "/cameras_sphere.npz", entries);
  write_text(root + "/poses_bounds.npy", "not an npy file: the DTU loader must win");
  return root;
}

TEST(DtuIdr, RecoversKnownIntrinsicsAndPosesInTheNormalizedFrame) {
  const std::string root = make_idr_scene("idr", idr_entries());
  const Dataset d = Dataset::load(root);
  EXPECT_EQ(d.format, "dtu");
  ASSERT_EQ(d.size(), 3u);
  const auto views = known_views();
  for (size_t i = 0; i < 3; ++i) {
    const Camera& c = d.cameras[i];
    EXPECT_EQ(c.name, "00000" + std::to_string(i) + ".png");
    EXPECT_EQ(c.width, kW);
    EXPECT_EQ(c.height, kH);
    EXPECT_NEAR(c.fx, kFx, 1e-6);
    EXPECT_NEAR(c.fy, kFy, 1e-6);
    EXPECT_NEAR(c.cx, kCx, 1e-6);
    EXPECT_NEAR(c.cy, kCy, 1e-6);
    for (int col = 0; col < 3; ++col)
      for (int row = 0; row < 3; ++row) EXPECT_NEAR(c.R[col][row], views[i].R[col][row], 1e-6) << i;
    for (int k = 0; k < 3; ++k) EXPECT_NEAR(c.t[k], views[i].t[k], 1e-6) << i;
  }
  // Too few views for the DTU protocol: the hold-out rule, all other views train.
  EXPECT_EQ(d.test_ids, (std::vector<int>{0}));
  EXPECT_EQ(d.train_ids, (std::vector<int>{1, 2}));
  // Unit-sphere depth bounds per view, and random initialization (no SfM points).
  ASSERT_EQ(d.depth_bounds.size(), 3u);
  EXPECT_NEAR(d.depth_bounds[1].y, glm::length(views[1].t) + 1.0, 1e-5);
  EXPECT_EQ(d.points.size(), 0u);
  // Masks: mask/00i.png, first channel.
  ASSERT_EQ(d.mask_paths.size(), 3u);
  const Image m = d.mask(2);
  ASSERT_EQ(m.channels, 1);
  EXPECT_EQ(m.at(25, 15, 0), 1.0f);
  EXPECT_EQ(m.at(5, 5, 0), 0.0f);
}

TEST(DtuIdr, CamerasNpzWithoutScaleMatsStaysInDtuFrame) {
  const auto views = known_views();
  Entries e;
  for (size_t i = 0; i < 3; ++i) {
    const Mat4 w = world_mat(views[i], 1.0);
    e.emplace_back("world_mat_" + std::to_string(i), encode_npy({3, 4}, w.data()));  // 3x4 accepted
  }
  const std::string root = make_idr_scene("idr-noscale", {});
  fs::remove(root + "/cameras_sphere.npz");
  write_npz(root + "/cameras.npz", e);
  const Dataset d = Dataset::load(root);
  EXPECT_EQ(d.format, "dtu");
  EXPECT_TRUE(d.depth_bounds.empty());
  const glm::dvec3 t_dtu = kScale * views[1].t - views[1].R * kCentre;
  for (int k = 0; k < 3; ++k) EXPECT_NEAR(d.cameras[1].t[k] / t_dtu[k], 1.0, 1e-6);
}

TEST(DtuIdr, MissingOrCorruptWorldMatIsBadInput) {
  {
    Entries e = idr_entries();
    std::erase_if(e, [](const auto& x) { return x.first == "world_mat_1"; });
    const std::string root = make_idr_scene("idr-missing", e);
    expect_bad_input([&] { Dataset::load(root); }, "world_mat_1 is missing");
  }
  {
    Entries e = idr_entries();
    const double eye3[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    for (auto& x : e)
      if (x.first == "world_mat_2") x.second = encode_npy({3, 3}, eye3);
    const std::string root = make_idr_scene("idr-shape", e);
    expect_bad_input([&] { Dataset::load(root); }, "world_mat_2 has shape 3x3");
  }
  {
    Entries e = idr_entries();
    const Mat4 zero{};
    for (auto& x : e)
      if (x.first == "world_mat_0") x.second = encode_npy({4, 4}, zero.data());
    const std::string root = make_idr_scene("idr-singular", e);
    expect_bad_input([&] { Dataset::load(root); }, "singular");
  }
  {
    Entries e = idr_entries();
    Mat4 w = world_mat(known_views()[0], 1.0);
    w[5] = std::nan("");
    for (auto& x : e)
      if (x.first == "world_mat_0") x.second = encode_npy({4, 4}, w.data());
    const std::string root = make_idr_scene("idr-nan", e);
    expect_bad_input([&] { Dataset::load(root); }, "non-finite");
  }
  {
    const std::string root = make_idr_scene("idr-garbage", idr_entries());
    write_text(root + "/cameras_sphere.npz", "this is not a zip archive");
    expect_bad_input([&] { Dataset::load(root); }, "cameras_sphere.npz");
  }
}

// ---- the real scene ----

TEST(DtuScan24, LoadsAsDtuWithTheProtocolSplitAndUnitSphereCameras) {
  SP_REQUIRE_DATASET(root, "dtu_scan24");
  DatasetOptions o;
  o.train_views = 3;
  const Dataset d = Dataset::load(root, o);
  EXPECT_EQ(d.format, "dtu");
  ASSERT_EQ(d.size(), 49u);
  EXPECT_EQ(d.cameras[0].width, 1600);
  EXPECT_EQ(d.cameras[0].height, 1200);
  EXPECT_EQ(d.cameras[24].name, "000024.png");
  EXPECT_EQ(d.train_ids, (std::vector<int>{22, 25, 28}));
  EXPECT_EQ(d.test_ids, dtu_protocol_split(49, 3).test);
  EXPECT_EQ(d.test_ids.size(), 25u);
  EXPECT_EQ(d.points.size(), 0u);
  for (size_t i = 0; i < d.size(); ++i) {
    const Camera& c = d.cameras[i];
    EXPECT_GT(glm::length(c.center()), 1.0f) << "view " << i;
    const glm::vec3 x = c.to_camera(glm::vec3(0.0f));  // the object's centre
    ASSERT_GT(x.z, 0.0f) << "view " << i;
    const float u = c.fx * x.x / x.z + c.cx, v = c.fy * x.y / x.z + c.cy;
    EXPECT_TRUE(u >= 0 && u < float(c.width) && v >= 0 && v < float(c.height)) << "view " << i << ": " << u << ", " << v;
  }
  ASSERT_EQ(d.mask_paths.size(), 49u);
  for (size_t i = 0; i < d.size(); ++i) EXPECT_FALSE(d.mask_paths[i].empty()) << i;
  EXPECT_EQ(fs::path(d.mask_paths[7]).filename().string(), "007.png");
  const Image m = d.mask(22);
  EXPECT_EQ(m.channels, 1);
  EXPECT_EQ(m.width, 1600);

  o.train_views = 0;
  const Dataset all = Dataset::load(root, o);
  EXPECT_EQ(all.train_ids.size(), 24u);
  EXPECT_EQ(all.test_ids.size(), 25u);
}

}  // namespace
}  // namespace sp
