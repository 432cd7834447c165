#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "engine/core/atomic_file.h"
#include "engine/core/error.h"
#include "engine/io/blender.h"
#include "engine/io/image_io.h"
#include "support/test_support.h"

namespace sp {
namespace {

using ::sp::test::expect_bad_input;

// A Blender camera at (0, 0, 4) with the identity rotation looks down -z at the origin.
const char* kFrame = R"({"file_path": "./train/r_0", "transform_matrix": [[1,0,0,0],[0,1,0,0],[0,0,1,4],[0,0,0,1]]})";

TEST(Blender, CameraAngleAndOpenGLConversion) {
  const std::string dir = test::temp_dir("blender");
  std::filesystem::create_directories(dir + "/train");
  save_png(dir + "/train/r_0.png", Image(40, 30, 4, 1.0f));
  const std::string json = std::string(R"({"camera_angle_x": 0.6911112070083618, "frames": [)") + kFrame + "]}";
  const auto frames = parse_transforms(json, dir + "/transforms_train.json");
  ASSERT_EQ(frames.size(), 1u);
  const TransformsFrame& f = frames[0];
  EXPECT_EQ(f.path, dir + "/train/r_0.png");
  EXPECT_EQ(f.name, "train/r_0.png");
  EXPECT_EQ(f.camera.width, 40);  // from the PNG header
  EXPECT_EQ(f.camera.height, 30);
  EXPECT_NEAR(f.camera.fx, 0.5 * 40 / std::tan(0.5 * 0.6911112070083618), 1e-4);
  EXPECT_EQ(f.camera.fx, f.camera.fy);
  EXPECT_EQ(f.camera.cx, 20.0f);
  EXPECT_EQ(f.camera.cy, 15.0f);
  EXPECT_TRUE(f.distortion.is_none());
  // Ours: y and z flipped; centre (0, 0, 4); the origin is 4 in front, on the optical axis.
  EXPECT_EQ(f.camera.R, glm::mat3(glm::vec3(1, 0, 0), glm::vec3(0, -1, 0), glm::vec3(0, 0, -1)));
  EXPECT_NEAR(glm::length(f.camera.center() - glm::vec3(0, 0, 4)), 0, 1e-6);
  EXPECT_EQ(f.camera.to_camera(glm::vec3(0)), glm::vec3(0, 0, 4));
  // World +y (Blender's up) is image up: negative camera y.
  EXPECT_LT(f.camera.to_camera(glm::vec3(0, 1, 0)).y, 0);
}

TEST(Blender, NerfstudioIntrinsicsAndDistortion) {
  const std::string dir = test::temp_dir("nerfstudio");
  std::filesystem::create_directories(dir + "/images");
  save_png(dir + "/images/frame_1.jpg.png", Image(8, 6, 3, 0.5f));  // names with dots
  write_text_atomic(dir + "/images/frame_2.png", "");                // never read: w/h are given
  const std::string json = R"({
    "fl_x": 500, "fl_y": 510, "cx": 321, "cy": 239, "w": 640, "h": 480, "camera_model": "OPENCV",
    "k1": -0.1, "k2": 0.01, "p1": 0.001, "p2": -0.002,
    "frames": [
      {"file_path": "images/frame_1.jpg", "transform_matrix": [[1,0,0,0],[0,1,0,0],[0,0,1,4]]},
      {"file_path": "images/frame_2.png", "fl_x": 400, "k1": 0, "k2": 0, "p1": 0, "p2": 0,
       "transform_matrix": [[1,0,0,0],[0,1,0,0],[0,0,1,4],[0,0,0,1]]}]})";
  const auto frames = parse_transforms(json, dir + "/transforms.json");
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].name, "images/frame_1.jpg.png");
  EXPECT_EQ(frames[0].camera.width, 640);
  EXPECT_EQ(frames[0].camera.fx, 500.0f);
  EXPECT_EQ(frames[0].camera.fy, 510.0f);
  EXPECT_EQ(frames[0].camera.cx, 321.0f);
  EXPECT_EQ(frames[0].distortion.model, Distortion::Model::OpenCV);
  EXPECT_DOUBLE_EQ(frames[0].distortion.p2, -0.002);
  // Per-frame keys win over the top level.
  EXPECT_EQ(frames[1].camera.fx, 400.0f);
  EXPECT_EQ(frames[1].camera.fy, 510.0f);
  EXPECT_TRUE(frames[1].distortion.is_none());
}

TEST(Blender, ClearErrors) {
  const std::string dir = test::temp_dir("blender-bad");
  std::filesystem::create_directories(dir + "/train");
  save_png(dir + "/train/r_0.png", Image(4, 4, 3, 0.5f));
  const std::string where = dir + "/transforms.json";
  const auto with = [](const std::string& head, const std::string& frame) { return "{" + head + "\"frames\": [" + frame + "]}"; };
  expect_bad_input([&] { parse_transforms("{\"frames\": [", where); }, "not valid JSON");
  expect_bad_input([&] { parse_transforms("[]", where); }, "expected a JSON object");
  expect_bad_input([&] { parse_transforms("{}", where); }, "expected a 'frames' array");
  expect_bad_input([&] { parse_transforms(with("", kFrame), where); }, "no intrinsics");
  expect_bad_input([&] { parse_transforms(with("\"camera_angle_x\": \"wide\",", kFrame), where); },
                   "'camera_angle_x' must be a number, found string");
  expect_bad_input([&] { parse_transforms(with("\"camera_angle_x\": 4,", kFrame), where); }, "must lie in (0, pi)");
  expect_bad_input([&] {
    parse_transforms(with("\"camera_angle_x\": 0.7,", R"({"file_path": "./train/r_9", "transform_matrix": [[1,0,0,0],[0,1,0,0],[0,0,1,4]]})"), where);
  }, "frame 0: image './train/r_9' not found");
  expect_bad_input([&] {
    parse_transforms(with("\"camera_angle_x\": 0.7,", R"({"file_path": "./train/r_0", "transform_matrix": [[2,0,0,0],[0,1,0,0],[0,0,1,4]]})"), where);
  }, "not a rotation");
  expect_bad_input([&] {
    parse_transforms(with("\"camera_angle_x\": 0.7,", R"({"file_path": "./train/r_0", "transform_matrix": [[1,0,0],[0,1,0,0],[0,0,1,4]]})"), where);
  }, "row 0 must hold 4 numbers");
  expect_bad_input([&] { parse_transforms(with("\"fl_x\": 9, \"camera_model\": \"OPENCV_FISHEYE\",", kFrame), where); },
                   "camera_model 'OPENCV_FISHEYE' is not supported");
  expect_bad_input([&] { read_transforms(dir + "/missing.json"); }, "no such file");
}

TEST(Blender, RealLego) {
  SP_REQUIRE_DATASET(lego, "lego");
  const auto train = read_transforms(lego + "/transforms_train.json");
  const auto test = read_transforms(lego + "/transforms_test.json");
  ASSERT_EQ(train.size(), 100u);
  ASSERT_EQ(test.size(), 25u);  // the standard 25 evaluation views (every 8th of 200)
  EXPECT_EQ(train[2].name, "train/r_2.png");
  EXPECT_EQ(test[2].name, "test/r_16.png");
  const double fx = 0.5 * 800 / std::tan(0.5 * 0.6911112070083618);  // 1111.111
  for (const auto* frames : {&train, &test})
    for (const auto& f : *frames) {
      EXPECT_EQ(f.camera.width, 800);
      EXPECT_EQ(f.camera.height, 800);
      EXPECT_NEAR(f.camera.fx, fx, 1e-3);
      // Cameras sit on a sphere of radius 4.0311 and look at the origin: it projects to the
      // image centre within 0.0014 px (checked independently with NumPy).
      EXPECT_NEAR(glm::length(f.camera.center()), 4.031129, 1e-5);
      const glm::vec3 o = f.camera.to_camera(glm::vec3(0));
      ASSERT_GT(o.z, 0);
      EXPECT_NEAR(f.camera.fx * o.x / o.z + f.camera.cx, 400, 0.01);
      EXPECT_NEAR(f.camera.fy * o.y / o.z + f.camera.cy, 400, 0.01);
    }
}

}  // namespace
}  // namespace sp
