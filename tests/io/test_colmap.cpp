#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <unordered_set>

#include "engine/core/atomic_file.h"
#include "engine/core/error.h"
#include "engine/io/colmap.h"
#include "engine/io/llff.h"
#include "support/synthetic_colmap.h"
#include "support/test_support.h"

namespace sp {
namespace {

void expect_same(const ColmapModel& a, const ColmapModel& b) {
  ASSERT_EQ(a.cameras.size(), b.cameras.size());
  for (size_t i = 0; i < a.cameras.size(); ++i) {
    EXPECT_EQ(a.cameras[i].id, b.cameras[i].id);
    EXPECT_EQ(a.cameras[i].model_id, b.cameras[i].model_id);
    EXPECT_EQ(a.cameras[i].width, b.cameras[i].width);
    EXPECT_EQ(a.cameras[i].height, b.cameras[i].height);
    EXPECT_EQ(a.cameras[i].params, b.cameras[i].params);  // bit-exact
  }
  ASSERT_EQ(a.images.size(), b.images.size());
  for (size_t i = 0; i < a.images.size(); ++i) {
    EXPECT_EQ(a.images[i].id, b.images[i].id);
    EXPECT_EQ(a.images[i].qvec, b.images[i].qvec);
    EXPECT_EQ(a.images[i].tvec, b.images[i].tvec);
    EXPECT_EQ(a.images[i].camera_id, b.images[i].camera_id);
    EXPECT_EQ(a.images[i].name, b.images[i].name);
    EXPECT_EQ(a.images[i].xys, b.images[i].xys);
    EXPECT_EQ(a.images[i].point3d_ids, b.images[i].point3d_ids);
  }
  EXPECT_EQ(a.points.ids, b.points.ids);
  EXPECT_EQ(a.points.xyz, b.points.xyz);
  EXPECT_EQ(a.points.rgb, b.points.rgb);
  EXPECT_EQ(a.points.error, b.points.error);
  EXPECT_EQ(a.points.track_offsets, b.points.track_offsets);
  EXPECT_EQ(a.points.track_image_ids, b.points.track_image_ids);
  EXPECT_EQ(a.points.track_point2d_idx, b.points.track_point2d_idx);
}

using ::sp::test::expect_bad_input;

TEST(Colmap, TextAndBinaryOfOneModelLoadTheSame) {
  const ColmapModel m = test::synthetic_colmap_model({.images = 7, .points = 60, .mixed_models = true});
  const std::string bin = test::temp_dir("colmap-bin"), txt = test::temp_dir("colmap-txt");
  write_colmap_binary(bin, m);
  write_colmap_text(txt, m);
  const ColmapModel b = read_colmap_model(bin), t = read_colmap_model(txt);
  EXPECT_TRUE(b.has_images && b.has_points && t.has_images && t.has_points);
  EXPECT_EQ(b.cameras_file, bin + "/cameras.bin");
  EXPECT_EQ(t.cameras_file, txt + "/cameras.txt");
  expect_same(m, b);
  expect_same(m, t);
  // The engine cameras agree as well.
  for (size_t i = 0; i < m.images.size(); ++i) {
    const auto* cam = &b.cameras[b.images[i].camera_id - 1];
    Camera cb = colmap_intrinsics(*cam, "b").camera, ct = colmap_intrinsics(t.cameras[t.images[i].camera_id - 1], "t").camera;
    set_colmap_pose(cb, b.images[i], "b");
    set_colmap_pose(ct, t.images[i], "t");
    EXPECT_EQ(cb.fx, ct.fx);
    EXPECT_EQ(cb.cx, ct.cx);
    EXPECT_EQ(cb.R, ct.R);
    EXPECT_EQ(cb.t, ct.t);
  }
}

TEST(Colmap, SyntheticPosesProjectTheTrackedPoints) {
  // The converted camera must reproduce the 2D observations: checks quaternion -> R and the
  // world -> camera convention end to end.
  const ColmapModel m = test::synthetic_colmap_model({.images = 5, .points = 50});
  std::unordered_map<uint64_t, size_t> point_index;
  for (size_t p = 0; p < m.points.size(); ++p) point_index[m.points.ids[p]] = p;
  int checked = 0;
  for (const auto& im : m.images) {
    Camera c = colmap_intrinsics(m.cameras[0], "mem").camera;
    set_colmap_pose(c, im, "mem");
    for (size_t k = 0; k < im.point3d_ids.size(); ++k) {
      if (im.point3d_ids[k] < 0) continue;
      const size_t p = point_index.at(uint64_t(im.point3d_ids[k]));
      const glm::vec3 x = c.to_camera(glm::vec3(m.points.xyz[3 * p], m.points.xyz[3 * p + 1], m.points.xyz[3 * p + 2]));
      EXPECT_NEAR(c.fx * x.x / x.z + c.cx, im.xys[2 * k], 1e-3);
      EXPECT_NEAR(c.fy * x.y / x.z + c.cy, im.xys[2 * k + 1], 1e-3);
      ++checked;
    }
  }
  EXPECT_GT(checked, 50);
}

TEST(Colmap, TextQuirks) {
  // Comments, CRLF line ends, an empty 2D-points line, a name with spaces, no final newline.
  const std::string images =
      "# header\r\n"
      "1 1 0 0 0 0 0 0 1 a b.png\r\n"
      "\r\n"
      "2 0.7071067811865476 0 0.7071067811865476 0 1 2 3 1 c.png\n"
      "10.5 20.5 -1 1 2 7\n"
      "3 1 0 0 0 0 0 0 1 last.png";
  const auto ims = parse_colmap_images_txt(images, "images.txt");
  ASSERT_EQ(ims.size(), 3u);
  EXPECT_EQ(ims[0].name, "a b.png");
  EXPECT_TRUE(ims[0].xys.empty());
  EXPECT_EQ(ims[1].point3d_ids, (std::vector<int64_t>{-1, 7}));
  EXPECT_EQ(ims[2].name, "last.png");
  const auto cams = parse_colmap_cameras_txt("# c\n\n7 SIMPLE_PINHOLE 640 480 500 320 240\n8 2 100 50 90 50 25 -0.1\n", "cameras.txt");
  ASSERT_EQ(cams.size(), 2u);
  EXPECT_EQ(cams[0].model_id, 0);
  EXPECT_EQ(cams[1].model_id, 2);  // numeric model ids are accepted too
  const auto intr = colmap_intrinsics(cams[1], "cameras.txt");
  EXPECT_EQ(intr.distortion.model, Distortion::Model::SimpleRadial);
  EXPECT_DOUBLE_EQ(intr.distortion.k1, -0.1);
  EXPECT_EQ(intr.camera.fx, 90.0f);
}

TEST(Colmap, ClearErrors) {
  expect_bad_input([] { parse_colmap_cameras_txt("1 PINHOLE 640 480 500 500 320\n", "cameras.txt"); },
                   "cameras.txt:1: PINHOLE takes 4 parameters, found 3");
  expect_bad_input([] { parse_colmap_cameras_txt("1 WEIRD 640 480 1\n", "cameras.txt"); }, "unknown camera model 'WEIRD'");
  expect_bad_input([] { parse_colmap_cameras_txt("1 PINHOLE 640 480 5x0 500 320 240\n", "cameras.txt"); },
                   "expected a number, found '5x0'");
  expect_bad_input([] { parse_colmap_cameras_txt("1 PINHOLE 640 480 nan 500 320 240\n", "cameras.txt"); }, "not finite");
  expect_bad_input([] { parse_colmap_cameras_txt("1 PINHOLE 0 480 500 500 320 240\n", "cameras.txt"); }, "out of range");
  expect_bad_input([] { parse_colmap_images_txt("1 0 0 0 0 0 0 0 1 a.png\n\n", "images.txt"); }, "quaternion is zero");
  expect_bad_input([] { parse_colmap_images_txt("1 1 0 0 0 0 0 0 1 a.png\n1 2\n", "images.txt"); }, "triples");
  expect_bad_input([] { parse_colmap_points_txt("1 0 0 0 255 255 256 0.5\n", "points3D.txt"); }, "out of range");
  // Binary: an unknown model id, a count larger than the file, trailing bytes.
  std::vector<ColmapCamera> cams = {{1, 4, 640, 480, {1, 1, 1, 1, 0, 0, 0, 0}}};
  std::string bin = encode_colmap_cameras_bin(cams);
  std::string bad = bin;
  bad[12] = 42;
  expect_bad_input([&] { parse_colmap_cameras_bin(bad, "cameras.bin"); }, "unknown camera model id 42");
  bad = bin;
  bad[0] = char(0xff);
  expect_bad_input([&] { parse_colmap_cameras_bin(bad, "cameras.bin"); }, "camera count is 255");
  expect_bad_input([&] { parse_colmap_cameras_bin(bin + "xx", "cameras.bin"); }, "2 unexpected bytes");
  expect_bad_input([&] { parse_colmap_cameras_bin(bin.substr(0, bin.size() - 3), "cameras.bin"); }, "truncated");
  // Fisheye models parse (so a file with one can be read) but cannot become engine cameras.
  const ColmapCamera fish{5, int(ColmapModelId::OpenCVFisheye), 100, 100, {50, 50, 50, 50, 0.1, 0, 0, 0}};
  EXPECT_EQ(parse_colmap_cameras_bin(encode_colmap_cameras_bin({fish}), "c.bin").at(0).model_id, 5);
  expect_bad_input([&] { colmap_intrinsics(fish, "cameras.bin"); }, "OPENCV_FISHEYE model, which is not supported");
  // A model folder without cameras, and images naming a missing camera.
  const std::string dir = test::temp_dir("colmap-bad");
  expect_bad_input([&] { read_colmap_model(dir); }, "no cameras.bin or cameras.txt");
  write_text_atomic(dir + "/cameras.txt", "1 PINHOLE 10 10 5 5 5 5\n");
  write_text_atomic(dir + "/images.txt", "1 1 0 0 0 0 0 0 9 a.png\n\n");
  expect_bad_input([&] { read_colmap_model(dir); }, "refers to camera 9");
}

TEST(Colmap, ModelTableAndQuaternions) {
  EXPECT_STREQ(colmap_model_name(0), "SIMPLE_PINHOLE");
  EXPECT_STREQ(colmap_model_name(4), "OPENCV");
  EXPECT_EQ(colmap_model_param_count(6), 12);
  EXPECT_EQ(colmap_model_param_count(11), 16);
  EXPECT_EQ(colmap_model_param_count(12), -1);
  EXPECT_EQ(colmap_model_id("RADIAL"), 3);
  EXPECT_EQ(colmap_model_id("nope"), -1);
  // 90 degrees about +z: x -> y.
  const glm::dmat3 R = quaternion_to_rotation({std::sqrt(0.5), 0, 0, std::sqrt(0.5)});
  const glm::dvec3 y = R * glm::dvec3(1, 0, 0);
  EXPECT_NEAR(y.x, 0, 1e-15);
  EXPECT_NEAR(y.y, 1, 1e-15);
  // Non-unit quaternions are normalized; round trips through each branch of Shepperd's method.
  for (const std::array<double, 4> q : {std::array<double, 4>{2, 0, 0, 0}, {0.1, 0.9, 0.3, -0.2}, {0.1, 0.2, 0.9, 0.3},
                                        {0.05, -0.2, 0.3, 0.9}, {0.9, 0.1, -0.3, 0.2}}) {
    const auto back = rotation_to_quaternion(quaternion_to_rotation(q));
    const double n = std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
    for (int k = 0; k < 4; ++k) EXPECT_NEAR(back[size_t(k)], q[size_t(k)] / n, 1e-12);
  }
}

TEST(Colmap, RealRoomModel) {
  SP_REQUIRE_DATASET(room, "llff_poses/room/sparse/0");
  const ColmapModel m = read_colmap_model(room);
  ASSERT_EQ(m.cameras.size(), 1u);
  EXPECT_EQ(m.cameras[0].model_id, int(ColmapModelId::SimpleRadial));
  EXPECT_EQ(m.cameras[0].width, 4032u);
  EXPECT_EQ(m.cameras[0].height, 3024u);
  EXPECT_NEAR(m.cameras[0].params[0], 3070.63827088164, 1e-9);
  EXPECT_NEAR(m.cameras[0].params[3], 0.009615941992791891, 1e-15);
  ASSERT_EQ(m.images.size(), 41u);
  EXPECT_EQ(m.images[0].id, 1u);
  EXPECT_EQ(m.images[0].name, "DJI_20200226_143850_006.JPG");
  EXPECT_EQ(m.images[0].point3d_ids.size(), 3141u);
  ASSERT_EQ(m.points.size(), 8772u);
  EXPECT_EQ(m.points.track_image_ids.size(), 62217u);
  // Consistency: the matched 2D points are exactly the track entries, and every track
  // image id is a registered image.
  size_t matched = 0, all2d = 0;
  std::unordered_set<uint32_t> ids;
  for (const auto& im : m.images) {
    ids.insert(im.id);
    all2d += im.point3d_ids.size();
    for (int64_t p : im.point3d_ids) matched += p != -1;
  }
  EXPECT_EQ(all2d, 129367u);
  EXPECT_EQ(matched, 62217u);
  for (uint32_t id : m.points.track_image_ids) ASSERT_TRUE(ids.count(id)) << id;

  // Written as text by our writer and read back: identical, bit for bit.
  const std::string txt = test::temp_dir("room-txt");
  write_colmap_text(txt, m);
  const ColmapModel t = read_colmap_model(txt);
  expect_same(m, t);

  // LLFF's poses_bounds.npy of this scene was made from this model: same cameras.
  SP_REQUIRE_DATASET(pb, "llff_poses/room/poses_bounds.npy");
  const auto views = read_poses_bounds(pb);
  ASSERT_EQ(views.size(), m.images.size());
  std::vector<const ColmapImage*> sorted;
  for (const auto& im : m.images) sorted.push_back(&im);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->name < b->name; });
  for (size_t i = 0; i < views.size(); ++i) {
    Camera c;
    set_colmap_pose(c, *sorted[i], "room");
    const glm::vec3 a = c.center(), b = views[i].camera.center();
    for (int k = 0; k < 3; ++k) EXPECT_NEAR(a[k], b[k], 1e-4) << "view " << i;
    for (int col = 0; col < 3; ++col)
      for (int row = 0; row < 3; ++row) EXPECT_NEAR(c.R[col][row], views[i].camera.R[col][row], 1e-6);
  }
}

TEST(Colmap, RealStatueAndFernModels) {
  SP_REQUIRE_DATASET(statue, "statue/sparse/0");
  const ColmapModel s = read_colmap_model(statue);
  ASSERT_EQ(s.cameras.size(), 1u);
  EXPECT_EQ(s.cameras[0].width, 800u);
  EXPECT_EQ(s.cameras[0].height, 1200u);
  EXPECT_NEAR(s.cameras[0].params[0], 2474.301987360509, 1e-9);
  EXPECT_NEAR(s.cameras[0].params[3], -0.5517206422349514, 1e-15);
  ASSERT_EQ(s.images.size(), 135u);  // derived images.bin: poses only
  for (const auto& im : s.images) EXPECT_TRUE(im.xys.empty());
  EXPECT_EQ(s.points.size(), 27509u);
  const auto [lo, hi] = std::minmax_element(s.points.track_image_ids.begin(), s.points.track_image_ids.end());
  EXPECT_EQ(*lo, 1u);
  EXPECT_EQ(*hi, 135u);

  SP_REQUIRE_DATASET(fern, "fern/sparse/0");
  const ColmapModel f = read_colmap_model(fern);
  EXPECT_FALSE(f.has_images);
  EXPECT_TRUE(f.has_points);
  EXPECT_EQ(f.points.size(), 10091u);
  EXPECT_NEAR(f.cameras[0].params[0], 3260.5263328805895, 1e-9);
}

}  // namespace
}  // namespace sp
