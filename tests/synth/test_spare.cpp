// DTU / SpaRe layout: projection-matrix decomposition, split files, name patterns, and
// the loader on a hand-written fixture (DTU's rect_ naming, several lightings).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <random>

#include "engine/core/atomic_file.h"
#include "engine/core/error.h"
#include "engine/io/image_io.h"
#include "engine/io/spare.h"
#include "engine/scene/dataset.h"
#include "support/test_support.h"

namespace sp {
namespace {
namespace fs = std::filesystem;

using ::sp::test::expect_bad_input;

glm::dmat3 rotation(double ax, double ay, double az) {
  const auto rx = glm::dmat3(1, 0, 0, 0, std::cos(ax), std::sin(ax), 0, -std::sin(ax), std::cos(ax));
  const auto ry = glm::dmat3(std::cos(ay), 0, -std::sin(ay), 0, 1, 0, std::sin(ay), 0, std::cos(ay));
  const auto rz = glm::dmat3(std::cos(az), std::sin(az), 0, -std::sin(az), std::cos(az), 0, 0, 0, 1);
  return rz * ry * rx;
}

TEST(SpareProjection, DecomposesRandomCamerasAtAnyScale) {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> U(-1, 1);
  for (int trial = 0; trial < 200; ++trial) {
    glm::dmat3 K(1.0);
    K[0][0] = 300 + 3000 * std::abs(U(rng));
    K[1][1] = K[0][0] * (1 + 0.05 * U(rng));
    K[2][0] = 800 + 100 * U(rng);
    K[2][1] = 600 + 100 * U(rng);
    const glm::dmat3 R = rotation(3 * U(rng), 1.5 * U(rng), 3 * U(rng));
    const glm::dvec3 t(U(rng) * 300, U(rng) * 300, 500 + 300 * U(rng));
    ProjectionMatrix P = compose_projection(K, R, t);
    // P is defined up to scale, sign included (DTU's files are not normalized).
    const double s = (trial % 2 ? -1.0 : 1.0) * std::pow(10.0, 3 * U(rng));
    for (double& v : P) v *= s;
    const DecomposedProjection d = decompose_projection(P, "P");
    for (int c = 0; c < 3; ++c)
      for (int r = 0; r < 3; ++r) {
        EXPECT_NEAR(d.K[c][r], K[c][r], 1e-9 * std::max(1.0, std::abs(K[c][r]))) << trial;
        EXPECT_NEAR(d.R[c][r], R[c][r], 1e-10) << trial;
      }
    for (int k = 0; k < 3; ++k) EXPECT_NEAR(d.t[k], t[k], 1e-9 * std::max(1.0, std::abs(t[k]))) << trial;
    EXPECT_NEAR(glm::determinant(d.R), 1.0, 1e-12);
  }
}

TEST(SpareProjection, TextRoundTripIsExact) {
  glm::dmat3 K(1.0);
  K[0][0] = 2892.33;
  K[1][1] = 2883.18;
  K[2][0] = 823.205;
  K[2][1] = 619.071;
  const ProjectionMatrix P = compose_projection(K, rotation(0.3, -0.2, 1.1), {-191.02, 3.28832, 22.5401});
  const ProjectionMatrix Q = parse_projection_matrix(encode_projection_matrix(P), "P");
  for (size_t i = 0; i < 12; ++i) EXPECT_EQ(P[i], Q[i]);
}

TEST(SpareProjection, ReadsDtuStyleTextAndRejectsCorruptFiles) {
  // A DTU pos file as published: 3 lines of 4 numbers, trailing blank line.
  const char* dtu =
      "2607.429996 -3.844898 1498.178098 -533936.661373\n"
      "-192.076910 2862.552532 681.798177 23434.686572\n"
      "-0.241605 -0.029659 0.969923 22.540209\n\n";
  const ProjectionMatrix P = parse_projection_matrix(dtu, "pos_001.txt");
  const DecomposedProjection d = decompose_projection(P, "pos_001.txt");
  EXPECT_GT(d.K[0][0], 2000);
  EXPECT_GT(d.K[1][1], 2000);
  EXPECT_NEAR(d.K[2][2], 1.0, 1e-15);
  EXPECT_NEAR(glm::determinant(d.R), 1.0, 1e-9);
  // Re-composing gives back P up to its scale.
  const ProjectionMatrix Q = compose_projection(d.K, d.R, d.t);
  const double s = P[8] / Q[8];
  for (size_t i = 0; i < 12; ++i) EXPECT_NEAR(Q[i] * s, P[i], 1e-6 * std::max(1.0, std::abs(P[i])));

  expect_bad_input([] { parse_projection_matrix("1 2 3 4\n5 6 7 8\n9 10 11\n", "pos_002.txt"); }, "found 11");
  expect_bad_input([] { parse_projection_matrix("1 2 3 4\n5 6 7 8\n9 10 11 12 13\n", "pos_003.txt"); }, "more than 12");
  expect_bad_input([] { parse_projection_matrix("1 2 3 4\n5 six 7 8\n9 10 11 12\n", "pos_004.txt"); }, "pos_004.txt:2");
  expect_bad_input([] { parse_projection_matrix("1 2 3 4\n5 6 7 8\n9 10 11 nan\n", "pos_005.txt"); }, "pos_005.txt");
  expect_bad_input([] { decompose_projection(parse_projection_matrix("1 2 3 4\n2 4 6 8\n0 0 1 1\n", "s"), "pos_006.txt"); },
                   "singular");
}

TEST(SpareSplitFile, ParsesAndRejectsMalformedFiles) {
  const auto s = parse_spare_split(R"({"scan1": {"input_views": [25, 22, 28], "test_views": [1, 2], "dataset": "DTU"},
                                       "other": {"input_views": [], "test_views": []}})",
                                   "split.json");
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s.at("scan1").input_views, (std::vector<int>{25, 22, 28}));
  EXPECT_EQ(s.at("scan1").test_views, (std::vector<int>{1, 2}));
  EXPECT_EQ(s.at("scan1").dataset, "DTU");
  EXPECT_EQ(parse_spare_split(encode_spare_split(s), "again").at("scan1").input_views, s.at("scan1").input_views);

  expect_bad_input([] { parse_spare_split("{\"a\": {\"input_views\": [1, 2]", "split.json"); }, "not valid JSON");
  expect_bad_input([] { parse_spare_split("[1, 2]", "split.json"); }, "expected an object");
  expect_bad_input([] { parse_spare_split(R"({"a": [1]})", "split.json"); }, "scene 'a'");
  expect_bad_input([] { parse_spare_split(R"({"a": {"test_views": []}})", "split.json"); }, "missing \"input_views\"");
  expect_bad_input([] { parse_spare_split(R"({"a": {"input_views": ["1"], "test_views": []}})", "split.json"); },
                   "0-based view indices");
  expect_bad_input([] { parse_spare_split(R"({"a": {"input_views": [-1], "test_views": []}})", "split.json"); },
                   "0-based view indices");
  expect_bad_input([] { parse_spare_split(R"({"a": {"input_views": [1, 1], "test_views": []}})", "split.json"); },
                   "twice");
  expect_bad_input([] { parse_spare_split(R"({"a": {"input_views": [1], "test_views": [1]}})", "split.json"); },
                   "both an input and a test view");
}

TEST(SpareNames, PatternsAndViewNumbering) {
  int n = 0, l = 0;
  EXPECT_TRUE(parse_spare_image_name("cam_001_3_0000.png", n, l));
  EXPECT_EQ(n, 1);
  EXPECT_EQ(l, 3);
  EXPECT_TRUE(parse_spare_image_name("rect_049_6_r5000.png", n, l));
  EXPECT_EQ(n, 49);
  EXPECT_EQ(l, 6);
  EXPECT_FALSE(parse_spare_image_name("rect_049_max.png", n, l));
  EXPECT_FALSE(parse_spare_image_name("cam_000_3_0000.png", n, l));  // numbers start at 1
  EXPECT_FALSE(parse_spare_image_name("cam_001_3_0000.jpg", n, l));
  EXPECT_FALSE(parse_spare_image_name("cam_001__0000.png", n, l));
  EXPECT_TRUE(parse_spare_pos_name("pos_064.txt", n));
  EXPECT_EQ(n, 64);
  EXPECT_FALSE(parse_spare_pos_name("pos_064.txt~", n));
  EXPECT_EQ(spare_image_name(0, 3), "cam_001_3_0000.png");
  EXPECT_EQ(spare_image_name(48, 0), "cam_049_0_0000.png");
  EXPECT_EQ(spare_pos_name(9), "pos_010.txt");
  EXPECT_EQ(spare_mask_name(9), "009.png");
}

// A hand-written DTU-style scene: 4 views at 8x6, rect_XXX_L_r5000.png under lightings 0
// and 3, pos files written as text by hand, masks for views 0 and 2 only.
struct Fixture {
  std::string root, scene;
};

Fixture write_fixture(const std::string& label) {
  Fixture f;
  f.root = test::temp_dir(label);
  f.scene = f.root + "/scan7";
  fs::create_directories(f.scene + "/mask");
  // P = s K [R | t] with K = [[10, 0, 4], [0, 12, 3], [0, 0, 1]], R = I, t = (i, 0, 5), s = -2
  // for view i (a negative scale must be undone by the loader).
  const char* pos[4] = {
      "-20 0 -8 -40\n0 -24 -6 -30\n0 0 -2 -10\n",
      "-20 0 -8 -60\n0 -24 -6 -30\n0 0 -2 -10\n",
      "-20 0 -8 -80\n0 -24 -6 -30\n0 0 -2 -10\n",
      "-20 0 -8 -100\n0 -24 -6 -30\n0 0 -2 -10\n",
  };
  for (int i = 0; i < 4; ++i) {
    write_text_atomic(f.scene + "/" + spare_pos_name(i), pos[i]);
    for (int light : {0, 3}) {
      Image im(8, 6, 3, 0.1f * float(i + 1) + 0.05f * float(light));
      save_png(f.scene + "/rect_00" + std::to_string(i + 1) + "_" + std::to_string(light) + "_r5000.png", im);
    }
  }
  Image mask(8, 6, 1, 0.0f);
  for (int y = 2; y < 4; ++y)
    for (int x = 2; x < 6; ++x) mask.at(x, y, 0) = 1.0f;
  save_png(f.scene + "/mask/000.png", mask);
  save_png(f.scene + "/mask/002.png", mask);
  return f;
}

TEST(SpareLoader, ReadsAHandWrittenDtuFixture) {
  const Fixture f = write_fixture("spare_fixture");
  const SpareScene s = read_spare_scene(f.scene);
  EXPECT_EQ(s.name, "scan7");
  EXPECT_EQ(s.lighting, 3);
  EXPECT_EQ(s.lightings, (std::vector<int>{0, 3}));
  ASSERT_EQ(s.views.size(), 4u);
  EXPECT_FALSE(s.has_split);
  for (int i = 0; i < 4; ++i) {
    const Camera& c = s.views[size_t(i)].camera;
    EXPECT_EQ(c.name, "rect_00" + std::to_string(i + 1) + "_3_r5000.png");
    EXPECT_EQ(c.width, 8);
    EXPECT_EQ(c.height, 6);
    EXPECT_FLOAT_EQ(c.fx, 10.0f);
    EXPECT_FLOAT_EQ(c.fy, 12.0f);
    EXPECT_FLOAT_EQ(c.cx, 4.0f);
    EXPECT_FLOAT_EQ(c.cy, 3.0f);
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b) EXPECT_NEAR(c.R[a][b], a == b ? 1.0f : 0.0f, 1e-7f);
    EXPECT_NEAR(c.t.x, float(i), 1e-6f);
    EXPECT_NEAR(c.t.y, 0.0f, 1e-6f);
    EXPECT_NEAR(c.t.z, 5.0f, 1e-6f);
  }
  EXPECT_FALSE(s.views[0].mask_path.empty());
  EXPECT_TRUE(s.views[1].mask_path.empty());
  EXPECT_EQ(read_spare_scene(f.scene, 0).views[2].camera.name, "rect_003_0_r5000.png");

  // Through Dataset::load: no split file -> the hold-out rule; masks exposed per view.
  DatasetOptions o;
  Dataset d = Dataset::load(f.scene, o);
  EXPECT_EQ(d.format, "spare");
  ASSERT_EQ(d.size(), 4u);
  ASSERT_EQ(d.mask_paths.size(), 4u);
  const Image m = d.mask(0);
  ASSERT_EQ(m.channels, 1);
  EXPECT_FLOAT_EQ(m.at(3, 2, 0), 1.0f);
  EXPECT_FLOAT_EQ(m.at(0, 0, 0), 0.0f);
  EXPECT_TRUE(d.mask(1).empty());
  EXPECT_NEAR(d.image(1).at(0, 0, 0), std::round((0.2f + 0.15f) * 255) / 255, 1e-6f);

  // With a split file beside the scene folder: train = the first N input views.
  write_text_atomic(f.root + "/split.json",
                    R"({"scan7": {"input_views": [2, 0, 3], "test_views": [1], "dataset": "DTU"}})");
  o.train_views = 2;
  d = Dataset::load(f.scene, o);
  EXPECT_EQ(d.train_ids, (std::vector<int>{0, 2}));
  EXPECT_EQ(d.test_ids, (std::vector<int>{1}));
  EXPECT_NE(d.protocol.find("SpaRe split"), std::string::npos) << d.protocol;
  // The folder holding split.json names its one scene.
  d = Dataset::load(f.root, o);
  EXPECT_EQ(d.size(), 4u);
  EXPECT_EQ(d.train_ids, (std::vector<int>{0, 2}));
  o.train_views = 0;
  d = Dataset::load(f.scene, o);
  EXPECT_EQ(d.train_ids, (std::vector<int>{0, 2, 3}));

  o.train_views = 4;
  expect_bad_input([&] { Dataset::load(f.scene, o); }, "has 3 input views");
}

TEST(SpareLoader, RejectsBrokenScenes) {
  {
    const Fixture f = write_fixture("spare_bad_pos");
    write_text_atomic(f.scene + "/pos_002.txt", "1 2 3\n");
    expect_bad_input([&] { Dataset::load(f.scene); }, "pos_002.txt");
  }
  {
    const Fixture f = write_fixture("spare_missing_pos");
    fs::remove(f.scene + "/pos_004.txt");
    expect_bad_input([&] { read_spare_scene(f.scene); }, "pos_004.txt");
  }
  {
    const Fixture f = write_fixture("spare_gap");
    fs::remove(f.scene + "/rect_002_3_r5000.png");
    expect_bad_input([&] { read_spare_scene(f.scene); }, "002 is missing");
  }
  {
    const Fixture f = write_fixture("spare_bad_split");
    write_text_atomic(f.scene + "/split.json", "{\"scan7\": {\"input_views\": [0, 1], \"test_views\": [2]");
    expect_bad_input([&] { Dataset::load(f.scene); }, "not valid JSON");
    write_text_atomic(f.scene + "/split.json", R"({"scan7": {"input_views": [0, 9], "test_views": [2]}})");
    expect_bad_input([&] { Dataset::load(f.scene); }, "out of range");
    write_text_atomic(f.scene + "/split.json", R"({"scan7": {"input_views": "0", "test_views": [2]}})");
    expect_bad_input([&] { Dataset::load(f.scene); }, "list of view indices");
  }
  {
    const Fixture f = write_fixture("spare_no_images");
    for (const auto& e : fs::directory_iterator(f.scene))
      if (e.path().extension() == ".png") fs::remove(e.path());
    expect_bad_input([&] { read_spare_scene(f.scene); }, "no images named");
    expect_bad_input([&] { read_spare_scene(f.scene, 5); }, "no images");
  }
  {
    const Fixture f = write_fixture("spare_bad_image");
    write_text_atomic(f.scene + "/rect_003_3_r5000.png", "not a png");
    expect_bad_input([&] { Dataset::load(f.scene); }, "rect_003_3_r5000.png");
  }
}

}  // namespace
}  // namespace sp
