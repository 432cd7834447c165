// INRIA cameras.json: reading another tool's file, round trips, clear errors.
#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/core/atomic_file.h"
#include "engine/core/error.h"
#include "engine/io/cameras_json.h"
#include "support/fuzz.h"
#include "support/test_support.h"

namespace sp {
namespace {

using ::sp::test::expect_bad_input;

TEST(CamerasJson, ReadsOpenSplatCameras) {
  SP_REQUIRE_DATASET(dir, "opensplat_statue");
  const std::string path = dir + "/cameras.json";
  std::vector<int> ids;
  const std::vector<Camera> cams = read_cameras_json(path, &ids);
  ASSERT_EQ(cams.size(), 135u);
  ASSERT_EQ(ids.size(), 135u);
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(ids[i], int(i));
  const Camera& c0 = cams[0];
  EXPECT_EQ(c0.name, "1359873828_f015f87b16_o.jpg");
  EXPECT_EQ(c0.width, 199);
  EXPECT_EQ(c0.height, 299);
  EXPECT_EQ(c0.cx, 99.5f);
  EXPECT_EQ(c0.cy, 149.5f);
  EXPECT_FLOAT_EQ(c0.fx, 606.3383178710938f);
  EXPECT_FLOAT_EQ(c0.fy, 595.0427856445313f);

  // Compare with the raw JSON: centre = position, R = rotationᵀ (rotation is camera-to-world).
  const auto doc = nlohmann::json::parse(read_file(path));
  for (size_t i = 0; i < cams.size(); ++i) {
    const Camera& c = cams[i];
    const auto& e = doc[i];
    const glm::vec3 centre = c.center();
    for (int k = 0; k < 3; ++k) EXPECT_NEAR(centre[k], e["position"][k].get<double>(), 1e-6) << i;
    for (int r = 0; r < 3; ++r)
      for (int col = 0; col < 3; ++col)  // world-to-camera R(r, col) = c2w(col, r); GLM is R[col][row]
        EXPECT_EQ(c.R[col][r], float(e["rotation"][col][r].get<double>()));
    // The camera looks along its +z axis: the world point one unit ahead of the centre
    // projects to the principal point.
    const glm::vec3 ahead = centre + glm::transpose(c.R) * glm::vec3(0, 0, 1);
    const glm::vec3 pc = c.to_camera(ahead);
    EXPECT_NEAR(pc.x, 0, 1e-5);
    EXPECT_NEAR(pc.y, 0, 1e-5);
    EXPECT_NEAR(pc.z, 1, 1e-5);
  }
}

TEST(CamerasJson, WriteReadRoundTrip) {
  std::vector<Camera> cams(3);
  for (int i = 0; i < 3; ++i) {
    Camera& c = cams[size_t(i)];
    c.name = "view_" + std::to_string(i) + ".png";
    c.width = 640 + i;
    c.height = 480 - i;
    c.fx = 500.25f + float(i);
    c.fy = 501.5f;
    c.cx = 0.5f * float(c.width);
    c.cy = 0.5f * float(c.height);
    const float a = 0.3f + 0.7f * float(i), b = -0.4f * float(i);
    const glm::mat3 rz{std::cos(a), std::sin(a), 0, -std::sin(a), std::cos(a), 0, 0, 0, 1};
    const glm::mat3 rx{1, 0, 0, 0, std::cos(b), std::sin(b), 0, -std::sin(b), std::cos(b)};
    c.R = rx * rz;
    c.t = glm::vec3(0.1f * float(i), -2.0f, 3.5f);
  }
  const std::string path = test::temp_dir("cams") + "/cameras.json";
  write_cameras_json(path, cams);
  const std::vector<Camera> back = read_cameras_json(path);
  ASSERT_EQ(back.size(), cams.size());
  for (size_t i = 0; i < cams.size(); ++i) {
    EXPECT_EQ(back[i].name, cams[i].name);
    EXPECT_EQ(back[i].width, cams[i].width);
    EXPECT_EQ(back[i].height, cams[i].height);
    EXPECT_EQ(back[i].fx, cams[i].fx);
    EXPECT_EQ(back[i].fy, cams[i].fy);
    EXPECT_EQ(back[i].cx, cams[i].cx);
    EXPECT_EQ(back[i].cy, cams[i].cy);
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b) EXPECT_EQ(back[i].R[a][b], cams[i].R[a][b]);  // stored exactly
    for (int k = 0; k < 3; ++k) EXPECT_NEAR(back[i].t[k], cams[i].t[k], 2e-6);  // t = -R c: round-off only
  }
  // A principal point off the centre is dropped, as the format requires.
  cams[0].cx = 10;
  write_cameras_json(path, cams);
  EXPECT_EQ(read_cameras_json(path)[0].cx, 0.5f * 640);
}

TEST(CamerasJson, ClearErrors) {
  const std::string dir = test::temp_dir("cams-bad");
  int n = 0;
  auto file = [&](const std::string& text) {
    const std::string p = dir + "/c" + std::to_string(n++) + ".json";
    write_text_atomic(p, text);
    return p;
  };
  const std::string good =
      R"({"id": 0, "img_name": "a.jpg", "width": 10, "height": 8, "position": [0, 0, 0],
          "rotation": [[1, 0, 0], [0, 1, 0], [0, 0, 1]], "fx": 5, "fy": 5})";
  EXPECT_EQ(read_cameras_json(file("[" + good + "]")).size(), 1u);
  expect_bad_input([&] { read_cameras_json(file("[" + good)); }, "not valid JSON");
  expect_bad_input([&] { read_cameras_json(file(good)); }, "expected a JSON list");
  expect_bad_input([&] { read_cameras_json(file("[3]")); }, "camera 0: expected a JSON object");
  auto broken = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    const size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    s.replace(at, from.size(), to);
    return file("[" + good + "," + s + "]");
  };
  expect_bad_input([&] { read_cameras_json(broken("\"fx\": 5,", "")); }, "camera 1 (a.jpg): missing \"fx\"");
  expect_bad_input([&] { read_cameras_json(broken("\"width\": 10", "\"width\": -10")); }, "\"width\" must be a positive integer");
  expect_bad_input([&] { read_cameras_json(broken("\"width\": 10", "\"width\": 10.5")); }, "\"width\" must be a positive integer");
  expect_bad_input([&] { read_cameras_json(broken("\"fy\": 5", "\"fy\": 0")); }, "focal lengths must be positive");
  expect_bad_input([&] { read_cameras_json(broken("\"fy\": 5", "\"fy\": \"5\"")); }, "\"fy\" is not a number");
  expect_bad_input([&] { read_cameras_json(broken("[0, 0, 0]", "[0, 0]")); }, "\"position\" must be a list of 3");
  expect_bad_input([&] { read_cameras_json(broken("[0, 0, 1]]", "[0, 0, 2]]")); }, "is not a rotation matrix");
  expect_bad_input([&] { read_cameras_json(broken("[0, 0, 1]]", "[0, 0, -1]]")); }, "is not a rotation matrix");
  expect_bad_input([&] { read_cameras_json(broken("[[1, 0, 0], ", "[[1, 0], ")); }, "3x3 list of rows");
  expect_bad_input([&] { read_cameras_json(broken("\"a.jpg\"", "7")); }, "\"img_name\" is not a string");
  expect_bad_input([&] { read_cameras_json(dir + "/missing.json"); }, "no such file");
}

TEST(CamerasJson, MutatedFilesAreMostlyRejectedAsBadInput) {
  SP_REQUIRE_DATASET(dir, "opensplat_statue");
  // The first three cameras of the real file as the seed.
  const auto doc = nlohmann::json::parse(read_file(dir + "/cameras.json"));
  const std::string seed = nlohmann::json(std::vector<nlohmann::json>(doc.begin(), doc.begin() + 3)).dump();
  const std::string path = test::temp_dir("cams-fuzz") + "/cameras.json";
  test::FuzzOptions opt;
  opt.mutations = 1500;
  const auto stats = test::fuzz_parser(seed, [&](const std::string& text) {
    write_text_atomic(path, text);
    (void)read_cameras_json(path);
  }, opt);
  std::printf("[ fuzz ] cameras.json: %zu inputs, %zu parsed, %zu rejected (prefixes %.3f, mutations %.3f)\n",
              stats.calls, stats.accepted, stats.rejected, stats.prefix_rejected_share(), stats.mutation_rejected_share());
  // Every truncated document is invalid JSON; most random edits break a field (measured 0.939).
  EXPECT_EQ(stats.prefix_rejected_share(), 1.0);
  EXPECT_GE(stats.mutation_rejected_share(), 0.85);
}

}  // namespace
}  // namespace sp
