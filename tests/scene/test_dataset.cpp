#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <thread>

#include "engine/core/atomic_file.h"
#include "engine/core/error.h"
#include "engine/io/colmap.h"
#include "engine/io/image_io.h"
#include "engine/io/npy.h"
#include "engine/io/undistort.h"
#include "engine/scene/dataset.h"
#include "support/synthetic_colmap.h"
#include "support/test_support.h"

namespace sp {
namespace {
namespace fs = std::filesystem;

using ::sp::test::expect_bad_input;

// View i's picture: red encodes i, green a horizontal ramp, blue a vertical one.
Image picture(int i, int w, int h) {
  Image im(w, h, 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      im.at(x, y, 0) = float(i + 1) / 16.0f;
      im.at(x, y, 1) = float(x) / float(w - 1);
      im.at(x, y, 2) = float(y) / float(h - 1);
    }
  return im;
}

struct Synthetic {
  std::string root;
  ColmapModel model;
};

// root/sparse/0/{cameras,images,points3D}.{bin|txt} + root/images/img_XX.png.
Synthetic make_colmap_dataset(const std::string& label, const test::SyntheticColmapOptions& o, bool text = false,
                              int file_width = 0, int file_height = 0) {
  Synthetic s;
  s.root = test::temp_dir(label);
  s.model = test::synthetic_colmap_model(o);
  fs::create_directories(s.root + "/sparse/0");
  fs::create_directories(s.root + "/images");
  if (text) write_colmap_text(s.root + "/sparse/0", s.model);
  else write_colmap_binary(s.root + "/sparse/0", s.model);
  for (int i = 0; i < o.images; ++i) {
    const std::string name = s.root + "/images/img_" + std::string(i < 10 ? "0" : "") + std::to_string(i) + ".png";
    save_png(name, picture(i, file_width ? file_width : o.width, file_height ? file_height : o.height));
  }
  return s;
}

const ColmapImage& image_named(const ColmapModel& m, const std::string& name) {
  for (const auto& im : m.images)
    if (im.name == name) return im;
  throw std::runtime_error("no image " + name);
}

TEST(Dataset, SyntheticColmapBinary) {
  const Synthetic s = make_colmap_dataset("ds-colmap", {.images = 10, .points = 80, .spread = 3});
  const Dataset d = Dataset::load(s.root);
  EXPECT_EQ(d.format, "colmap");
  EXPECT_EQ(d.root, s.root);
  ASSERT_EQ(d.size(), 10u);
  // Sorted by name although the image ids descend.
  for (size_t i = 0; i < d.size(); ++i) {
    const std::string name = "img_0" + std::to_string(i) + ".png";
    EXPECT_EQ(d.cameras[i].name, name);
    EXPECT_EQ(d.image_paths[i], s.root + "/images/" + name);
    Camera expected;
    set_colmap_pose(expected, image_named(s.model, name), "");
    EXPECT_EQ(d.cameras[i].R, expected.R);
    EXPECT_EQ(d.cameras[i].t, expected.t);
    EXPECT_EQ(d.cameras[i].width, 64);
    EXPECT_EQ(d.cameras[i].height, 48);
    EXPECT_FLOAT_EQ(d.cameras[i].fx, 0.9f * 64);
    EXPECT_FLOAT_EQ(d.cameras[i].fy, 0.9f * 64 * 1.01f);
  }
  // Mip-NeRF holdout: 0 and 8 test; the rest train.
  EXPECT_EQ(d.test_ids, (std::vector<int>{0, 8}));
  EXPECT_EQ(d.train_ids, (std::vector<int>{1, 2, 3, 4, 5, 6, 7, 9}));
  EXPECT_NE(d.protocol.find("every 8th"), std::string::npos) << d.protocol;
  // Two train views: round(linspace(0, 7, 2)) of the others [1..7, 9] = views 1 and 9. Points:
  // only those seen by both, counted here from the raw model.
  const Dataset d2 = Dataset::load(s.root, {.train_views = 2});
  EXPECT_EQ(d2.train_ids, (std::vector<int>{1, 9}));
  std::map<uint32_t, int> view_of;
  for (size_t i = 0; i < d.size(); ++i) view_of[image_named(s.model, d.cameras[i].name).id] = int(i);
  size_t expected_points = 0;
  for (size_t p = 0; p < s.model.points.size(); ++p) {
    int seen = 0;
    for (auto k = s.model.points.track_offsets[p]; k < s.model.points.track_offsets[p + 1]; ++k) {
      const int v = view_of.at(s.model.points.track_image_ids[k]);
      seen += v == 1 || v == 9;
    }
    expected_points += seen >= 2;
  }
  EXPECT_GT(expected_points, 10u);
  EXPECT_LT(expected_points, s.model.points.size());
  EXPECT_EQ(d2.points.size(), expected_points);
  EXPECT_TRUE(d2.points.has_tracks);
  EXPECT_TRUE(d2.points_from_train_views_only);
  for (const auto& t : d2.points.tracks) {
    EXPECT_TRUE(std::count(t.begin(), t.end(), 1) && std::count(t.begin(), t.end(), 9));
    for (int v : t) EXPECT_TRUE(v >= 0 && v < 10);
  }
  EXPECT_TRUE(d.depth_bounds.empty());
  // Depth range from the points: cameras 4 from the origin, points within 3 * sqrt(3) of it.
  EXPECT_GT(d.near_depth, 0.0f);
  EXPECT_LT(d.near_depth, 4.0f);
  EXPECT_GT(d.far_depth, 4.0f);
  EXPECT_LT(d.far_depth, 4.2f + 3 * std::sqrt(3.0f));
  // Pixels: view 3 is picture 3.
  const Image im = d.image(3);
  ASSERT_EQ(im.width, 64);
  ASSERT_EQ(im.height, 48);
  ASSERT_EQ(im.channels, 3);
  EXPECT_NEAR(im.at(10, 10, 0), 4.0f / 16, 1.0f / 255);
  EXPECT_NEAR(im.at(63, 0, 1), 1.0f, 1.0f / 255);
  EXPECT_NEAR(im.at(0, 47, 2), 1.0f, 1.0f / 255);
  expect_bad_input([&] { d.image(10); }, "view 10 is out of range (the dataset has 10 views)");
}

TEST(Dataset, TextModelLoadsTheSame) {
  const test::SyntheticColmapOptions o{.images = 9, .points = 50, .seed = 5};
  const Dataset b = Dataset::load(make_colmap_dataset("ds-bin", o).root);
  const Dataset t = Dataset::load(make_colmap_dataset("ds-txt", o, true).root);
  ASSERT_EQ(b.size(), t.size());
  for (size_t i = 0; i < b.size(); ++i) {
    EXPECT_EQ(b.cameras[i].R, t.cameras[i].R);
    EXPECT_EQ(b.cameras[i].t, t.cameras[i].t);
    EXPECT_EQ(b.cameras[i].fx, t.cameras[i].fx);
  }
  EXPECT_EQ(b.points.xyz, t.points.xyz);
  EXPECT_EQ(b.points.tracks, t.points.tracks);
}

TEST(Dataset, ResolutionRules) {
  const Synthetic s = make_colmap_dataset("ds-res", {.images = 3, .points = 10, .width = 65, .height = 47});
  Dataset d = Dataset::load(s.root, {.downscale = 2});
  // INRIA: round(65 / 2) = 32 (half to even), round(47 / 2) = 24; intrinsics follow.
  EXPECT_EQ(d.cameras[0].width, 32);
  EXPECT_EQ(d.cameras[0].height, 24);
  EXPECT_FLOAT_EQ(d.cameras[0].fx, 0.9f * 65 * 32 / 65);
  EXPECT_FLOAT_EQ(d.cameras[0].cy, 47.0f / 2 * 24 / 47);
  const Image im = d.image(1);
  EXPECT_EQ(im.width, 32);
  EXPECT_EQ(im.height, 24);
  d = Dataset::load(s.root, {.resolution = 40});
  EXPECT_EQ(d.cameras[0].width, 40);  // longest side 40
  EXPECT_EQ(d.cameras[0].height, 29);  // round(47 * 40 / 65) = 28.9
  d = Dataset::load(s.root, {.resolution = 100});
  EXPECT_EQ(d.cameras[0].width, 65);  // never enlarged
}

TEST(Dataset, AutomaticCapAt1600) {
  const Synthetic s = make_colmap_dataset("ds-cap", {.images = 2, .points = 5, .width = 1700, .height = 100});
  Dataset d = Dataset::load(s.root);
  EXPECT_EQ(d.cameras[0].width, 1600);
  EXPECT_EQ(d.cameras[0].height, 94);  // round(100 * 1600 / 1700)
  d = Dataset::load(s.root, {.downscale = 1});
  EXPECT_EQ(d.cameras[0].width, 1700);  // an explicit downscale switches the cap off
}

TEST(Dataset, ImageSizeDiffersFromCamera) {
  // cameras.bin says 128 x 96, the files are 64 x 48: intrinsics scale to the files.
  Synthetic s = make_colmap_dataset("ds-size", {.images = 3, .points = 10, .width = 128, .height = 96}, false, 64, 48);
  const Dataset d = Dataset::load(s.root);
  EXPECT_EQ(d.cameras[0].width, 64);
  EXPECT_FLOAT_EQ(d.cameras[0].fx, 0.9f * 128 / 2);
  EXPECT_FLOAT_EQ(d.cameras[0].cx, 32.0f);
  // A downscale is a fraction of the camera's record (128x96), not of the files: 1/2 = the
  // files as they are; 1/1 asks for more than the files hold, so they are used unenlarged.
  EXPECT_EQ(Dataset::load(s.root, {.downscale = 2}).cameras[0].width, 64);
  EXPECT_EQ(Dataset::load(s.root, {.downscale = 4}).cameras[0].width, 32);
  const Dataset one = Dataset::load(s.root, {.downscale = 1});
  EXPECT_EQ(one.cameras[0].width, 64);
  EXPECT_EQ(one.image(0).width, 64);
  // A different aspect ratio is an error, not a silent stretch.
  s = make_colmap_dataset("ds-aspect", {.images = 3, .points = 10, .width = 64, .height = 48}, false, 48, 64);
  expect_bad_input([&] { Dataset::load(s.root); }, "image is 48x64 but its camera says 64x48 (a different aspect ratio)");
}

TEST(Dataset, ImageFilesAreCheckedAtLoad) {
  Synthetic s = make_colmap_dataset("ds-missing", {.images = 4, .points = 10});
  fs::remove(s.root + "/images/img_02.png");
  save_png(s.root + "/images/zzz.png", picture(0, 64, 48));  // counts agree, names do not
  // LLFF-style renamed copies are matched by sorted order when the counts agree...
  Dataset d = Dataset::load(s.root);
  EXPECT_EQ(d.image_paths[3], s.root + "/images/zzz.png");
  // ...otherwise a missing file is named.
  fs::remove(s.root + "/images/zzz.png");
  expect_bad_input([&] { Dataset::load(s.root); }, "img_02.png: image listed in");
  // A file that is not an image.
  write_text_atomic(s.root + "/images/img_02.png", "not a png");
  expect_bad_input([&] { Dataset::load(s.root); }, "img_02.png: not a readable image");
}

TEST(Dataset, ExplicitSplitAndValidation) {
  const Synthetic s = make_colmap_dataset("ds-split", {.images = 10, .points = 60});
  Dataset d = Dataset::load(s.root, {.train_ids = {5, 0}, .test_ids = {9}});
  EXPECT_EQ(d.train_ids, (std::vector<int>{0, 5}));  // opposite cameras on the circle
  EXPECT_EQ(d.test_ids, (std::vector<int>{9}));
  EXPECT_NE(d.protocol.find("explicit"), std::string::npos);
  for (const auto& t : d.points.tracks) {
    const bool s0 = std::count(t.begin(), t.end(), 0), s5 = std::count(t.begin(), t.end(), 5);
    EXPECT_TRUE(s0 && s5);
  }
  // scene_extent: centres (4, 0, 1) and (-4, 0, 1) -> mean (0, 0, 1), radius 4 -> 4.4.
  EXPECT_NEAR(d.scene_extent(), 4.4f, 1e-4);
  d = Dataset::load(s.root, {.train_ids = {3}});
  EXPECT_EQ(d.scene_extent(), 1.0f);  // one camera: fallback
  EXPECT_EQ(d.points.size(), 0u);  // a point needs two train views
  expect_bad_input([&] { Dataset::load(s.root, {.train_ids = {1, 10}}); }, "train id 10 is out of range");
  expect_bad_input([&] { Dataset::load(s.root, {.train_ids = {1}, .test_ids = {1}}); }, "view 1 is in both");
  expect_bad_input([&] { Dataset::load(s.root, {.train_views = 9}); }, "asked for 9 train views but only 8");
}

TEST(Dataset, DetectionErrors) {
  const std::string empty = test::temp_dir("ds-empty");
  expect_bad_input([&] { Dataset::load(empty); }, "cannot detect the dataset format");
  expect_bad_input([&] { Dataset::load(empty + "/nope"); }, "no such folder");
  // A model without images.txt and without poses_bounds.npy is not a dataset either.
  fs::create_directories(empty + "/sparse/0");
  write_text_atomic(empty + "/sparse/0/cameras.txt", "1 PINHOLE 10 10 5 5 5 5\n");
  expect_bad_input([&] { Dataset::load(empty); }, "(LLFF)");
}

TEST(Dataset, UndistortsAtLoad) {
  const Synthetic s = make_colmap_dataset("ds-lens", {.images = 6, .points = 10, .width = 80, .height = 60, .mixed_models = true});
  const Dataset d = Dataset::load(s.root);
  // img_01 uses camera 2 (SIMPLE_RADIAL k = -0.08), img_02 camera 3 (OPENCV).
  for (int v : {1, 2}) {
    const ColmapCamera& cam = s.model.cameras[size_t(v)];
    const ColmapIntrinsics in = colmap_intrinsics(cam, "");
    EXPECT_FALSE(in.distortion.is_none());
    const Image raw = load_image(d.image_paths[size_t(v)]);
    const UndistortMap map = make_undistort_map(80, 60, in.camera.fx, in.camera.fy, in.camera.cx, in.camera.cy, in.distortion);
    const Image expected = undistort_image(raw, map);
    const Image got = d.image(v);
    ASSERT_EQ(got.pixels.size(), expected.pixels.size());
    EXPECT_EQ(got.pixels, expected.pixels);
    EXPECT_NE(got.pixels, raw.pixels);
    // The camera the trainer sees is the pinhole with the same intrinsics.
    EXPECT_EQ(d.cameras[size_t(v)].fx, in.camera.fx);
    EXPECT_EQ(d.cameras[size_t(v)].cx, in.camera.cx);
  }
  EXPECT_EQ(d.image(0).pixels, load_image(d.image_paths[0]).pixels);  // PINHOLE: untouched
}

// Masks of distorted photos (the statue's) are in the photos' pixels: they go through the
// same undistortion, so a mask that is a copy of its photo stays the photo's first channel.
TEST(Dataset, UndistortsMasksWithThePhotos) {
  const Synthetic s = make_colmap_dataset("ds-lens-masks", {.images = 6, .points = 10, .width = 80, .height = 60, .mixed_models = true});
  fs::create_directories(s.root + "/masks");
  Dataset plain = Dataset::load(s.root);
  for (size_t v = 0; v < plain.size(); ++v)
    fs::copy_file(plain.image_paths[v], s.root + "/masks/" + fs::path(plain.image_paths[v]).filename().string());
  const Dataset d = Dataset::load(s.root);
  ASSERT_EQ(d.mask_paths.size(), d.size());
  for (int v : {0, 1, 2}) {  // pinhole, SIMPLE_RADIAL, OPENCV
    const Image photo = d.image(v), mask = d.mask(v);
    ASSERT_EQ(mask.pixel_count(), photo.pixel_count());
    double worst = 0;
    for (size_t p = 0; p < mask.pixel_count(); ++p)
      worst = std::max(worst, double(std::abs(mask.pixels[p] - photo.pixels[3 * p])));
    EXPECT_LT(worst, 1e-6) << "view " << v;
  }
  // A mask of another size than its distorted photo is refused.
  save_png(d.mask_paths[1], Image(40, 30, 1, 1.0f));
  expect_bad_input([&] { d.mask(1); }, "must have the photo's size");
}

TEST(Dataset, ConcurrentImageAccess) {
  const Synthetic s = make_colmap_dataset("ds-threads", {.images = 8, .points = 10, .mixed_models = true});
  // A cache too small for all views forces evictions and re-decoding under contention.
  const Dataset d = Dataset::load(s.root, {.cache_bytes = 3 * 64 * 48 * 3 * sizeof(float)});
  std::vector<Image> serial;
  for (size_t i = 0; i < d.size(); ++i) serial.push_back(d.image(int(i)));
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int k = 0; k < 40; ++k) {
        const int v = (k * 3 + t) % int(d.size());
        if (d.image_ptr(v)->pixels != serial[size_t(v)].pixels) ++mismatches;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

// root/transforms_train.json (3 frames) + transforms_test.json (1 frame), 8x8 RGBA images:
// fully transparent except one red opaque pixel at (3, 3).
std::string make_blender_dataset(const std::string& label) {
  const std::string root = test::temp_dir(label);
  fs::create_directories(root + "/train");
  fs::create_directories(root + "/test");
  Image rgba(8, 8, 4, 0.0f);
  rgba.at(3, 3, 0) = 1;
  rgba.at(3, 3, 3) = 1;
  std::string frames;
  for (int i = 0; i < 3; ++i) {
    save_png(root + "/train/r_" + std::to_string(i) + ".png", rgba);
    frames += std::string(i ? "," : "") + R"({"file_path": "./train/r_)" + std::to_string(i) +
              R"(", "transform_matrix": [[1,0,0,0],[0,1,0,0],[0,0,1,)" + std::to_string(4 + i) + "],[0,0,0,1]]}";
  }
  write_text_atomic(root + "/transforms_train.json", R"({"camera_angle_x": 0.69, "frames": [)" + frames + "]}");
  save_png(root + "/test/r_0.png", rgba);
  write_text_atomic(root + "/transforms_test.json",
                    R"({"camera_angle_x": 0.69, "frames": [{"file_path": "./test/r_0", "transform_matrix": [[1,0,0,0],[0,1,0,0],[0,0,1,4],[0,0,0,1]]}]})");
  return root;
}

TEST(Dataset, BlenderSyntheticRgba) {
  const std::string root = make_blender_dataset("ds-blender");
  Dataset d = Dataset::load(root);
  EXPECT_EQ(d.format, "blender");
  ASSERT_EQ(d.size(), 4u);
  EXPECT_EQ(d.train_ids, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(d.test_ids, (std::vector<int>{3}));
  EXPECT_EQ(d.cameras[3].name, "test/r_0.png");
  EXPECT_EQ(d.points.size(), 0u);
  EXPECT_EQ(d.near_depth, 0.0f);  // unknown: no bounds, no points
  Image im = d.image(0);
  EXPECT_EQ(im.channels, 3);
  EXPECT_EQ(im.at(0, 0, 1), 1.0f);  // white background
  EXPECT_EQ(im.at(3, 3, 0), 1.0f);
  EXPECT_EQ(im.at(3, 3, 1), 0.0f);
  d = Dataset::load(root, {.white_background = false});
  EXPECT_EQ(d.image(0).at(0, 0, 1), 0.0f);  // black background
}

TEST(Dataset, RgbaBackgroundIsTheCompositingColour) {
  const std::string root = make_blender_dataset("ds-blender-bg");
  for (const bool white : {true, false}) {
    const Dataset d = Dataset::load(root, {.white_background = white});
    EXPECT_EQ(d.rgba_background, glm::vec3(white ? 1.0f : 0.0f));
    // A transparent pixel shows exactly that colour; the opaque red one does not.
    const Image im = d.image(3);
    for (int c = 0; c < 3; ++c) EXPECT_EQ(im.at(0, 0, c), d.rgba_background[c]);
    EXPECT_EQ(im.at(3, 3, 0), 1.0f);
    EXPECT_EQ(im.at(3, 3, 1), 0.0f);
  }
}

TEST(Dataset, ColmapSplitFileRule) {
  const Synthetic s = make_colmap_dataset("ds-split-file", {.images = 10, .points = 60});
  write_text_atomic(s.root + "/split.json", R"({"scan1": {"input_views": [5, 2, 7], "test_views": [0, 9]}})");
  // Train = the first N input views, kept in the file's order (unlike a SpaRe scene's).
  Dataset d = Dataset::load(s.root, {.train_views = 2});
  EXPECT_EQ(d.train_ids, (std::vector<int>{5, 2}));
  EXPECT_EQ(d.test_ids, (std::vector<int>{0, 9}));
  EXPECT_EQ(d.protocol, "SpaRe split of " + s.root + "/split.json: train = the first 2 input views [5, 2], test = its test views");
  d = Dataset::load(s.root);
  EXPECT_EQ(d.train_ids, (std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8}));
  expect_bad_input([&] { Dataset::load(s.root, {.train_views = 4}); }, "split.json: scene 'scan1' has 3 input views");
  // A forced protocol replaces the file's rule.
  d = Dataset::load(s.root, {.downscale = 1, .train_views = 4, .protocol = "llff"});
  EXPECT_EQ(d.test_ids, (std::vector<int>{0, 8}));
  EXPECT_EQ(d.train_ids.size(), 4u);
  // Explicit train ids take the file's test views.
  d = Dataset::load(s.root, {.train_ids = {3, 4}});
  EXPECT_EQ(d.test_ids, (std::vector<int>{0, 9}));
  EXPECT_NE(d.protocol.find("(the protocol's test views)"), std::string::npos) << d.protocol;
  write_text_atomic(s.root + "/split.json", R"({"a": {"input_views": [1], "test_views": [0]}, "b": {"input_views": [1], "test_views": [0]}})");
  expect_bad_input([&] { Dataset::load(s.root); }, "split.json: expected exactly one scene in the split file");
}

// ---- real data ----

TEST(DatasetReal, FernThreeViews) {
  SP_REQUIRE_DATASET(fern, "fern");
  const Dataset d = Dataset::load(fern, {.downscale = 8, .train_views = 3});
  EXPECT_EQ(d.format, "llff");
  ASSERT_EQ(d.size(), 20u);
  EXPECT_EQ(d.cameras[0].width, 504);
  EXPECT_EQ(d.cameras[0].height, 378);
  EXPECT_NEAR(d.cameras[0].fx, 407.5658, 1e-3);  // 3260.526 (full size) / 8
  EXPECT_NEAR(d.cameras[0].cx, 252.0, 1e-4);
  // Protocol: test = 0, 8, 16; train = round(linspace(0, 16, 3)) = 0, 8, 16 of the other 17
  // views [1..7, 9..15, 17..19] = views 1, 10, 19.
  EXPECT_EQ(d.test_ids, (std::vector<int>{0, 8, 16}));
  EXPECT_EQ(d.train_ids, (std::vector<int>{1, 10, 19}));
  // The 10,091 SfM points have no tracks (no images.bin): a 3-view run starts from random points.
  EXPECT_EQ(d.points.size(), 0u);
  EXPECT_FALSE(d.points.has_tracks);
  EXPECT_FALSE(d.points_from_train_views_only);
  ASSERT_EQ(d.depth_bounds.size(), 20u);
  EXPECT_NEAR(d.depth_bounds[0].x, 17.747, 1e-3);
  // Depth range = the train views' bounds: min near, max far over views 1, 10, 19.
  float lo = 1e9f, hi = 0;
  for (int id : d.train_ids) {
    lo = std::min(lo, d.depth_bounds[size_t(id)].x);
    hi = std::max(hi, d.depth_bounds[size_t(id)].y);
  }
  EXPECT_EQ(d.near_depth, lo);
  EXPECT_EQ(d.far_depth, hi);
  const Image im = d.image(1);
  EXPECT_EQ(im.width, 504);
  EXPECT_EQ(im.height, 378);
  EXPECT_EQ(im.channels, 3);
  EXPECT_GT(d.scene_extent(), 0.0f);

  const Dataset all = Dataset::load(fern, {.downscale = 8});
  EXPECT_EQ(all.train_ids.size(), 17u);
  EXPECT_EQ(all.points.size(), 10091u);  // every non-test view trains: the points stay
  EXPECT_FALSE(all.points.has_tracks);
}

TEST(DatasetReal, LegoProtocol) {
  SP_REQUIRE_DATASET(lego, "lego");
  Dataset d = Dataset::load(lego, {.train_views = 8});
  EXPECT_EQ(d.format, "blender");
  ASSERT_EQ(d.size(), 125u);  // 100 train frames, then the 25 test frames
  EXPECT_EQ(d.train_ids, (std::vector<int>{2, 16, 26, 55, 73, 76, 86, 93}));
  ASSERT_EQ(d.test_ids.size(), 25u);
  EXPECT_EQ(d.test_ids.front(), 100);
  EXPECT_EQ(d.test_ids.back(), 124);
  EXPECT_EQ(d.cameras[2].name, "train/r_2.png");
  EXPECT_EQ(d.cameras[100].name, "test/r_0.png");
  EXPECT_EQ(d.points.size(), 0u);
  for (const Camera& c : d.cameras) {
    EXPECT_NEAR(glm::length(c.center()), 4.0311, 1e-3);
    const glm::vec3 o = c.to_camera(glm::vec3(0));
    EXPECT_NEAR(c.fx * o.x / o.z + c.cx, 400, 0.01);
    EXPECT_NEAR(c.fy * o.y / o.z + c.cy, 400, 0.01);
  }
  const float extent = d.scene_extent();
  EXPECT_GT(extent, 4.0f);
  EXPECT_LT(extent, 1.1f * 2 * 4.0312f);
  const Image im = d.image(2);
  EXPECT_EQ(im.width, 800);
  EXPECT_EQ(im.channels, 3);
  EXPECT_EQ(im.at(0, 0, 0), 1.0f);  // transparent corner on white
  d = Dataset::load(lego, {.downscale = 2, .train_views = 3});
  EXPECT_EQ(d.train_ids, (std::vector<int>{2, 16, 26}));
  EXPECT_EQ(d.cameras[0].width, 400);
  EXPECT_NEAR(d.cameras[0].fx, 1111.111 / 2, 1e-2);
}

TEST(DatasetReal, StatueUndistortedAndTracksFiltered) {
  SP_REQUIRE_DATASET(statue, "statue");
  const Dataset d = Dataset::load(statue, {.train_views = 3});
  EXPECT_EQ(d.format, "colmap");
  ASSERT_EQ(d.size(), 135u);
  EXPECT_EQ(d.cameras[0].name, "1359873828_f015f87b16_o.jpg");
  EXPECT_EQ(d.cameras[0].width, 800);
  EXPECT_EQ(d.cameras[0].height, 1200);
  EXPECT_EQ(d.test_ids.size(), 17u);
  EXPECT_EQ(d.train_ids, (std::vector<int>{1, 67, 134}));
  // Points seen by >= 2 of the 3 train views: 57 of 27,509 (counted independently with
  // NumPy from points3D.bin tracks through images.bin ids).
  EXPECT_EQ(d.points.size(), 57u);
  EXPECT_TRUE(d.points.has_tracks);
  EXPECT_TRUE(d.points_from_train_views_only);
  // Depth range from the SfM points in the train frusta; poses_bounds.npy (not used for a
  // COLMAP model) puts the statue between 0.71 and 15.7 over all views.
  EXPECT_GT(d.near_depth, 0.5f);
  EXPECT_LT(d.far_depth, 16.0f);
  EXPECT_LT(d.near_depth, d.far_depth);
  // SIMPLE_RADIAL k = -0.552 is undone at load.
  const Image raw = load_image(d.image_paths[1]);
  const Camera& c = d.cameras[1];  // same intrinsics as the photo: 800 x 1200, f = 2474.3
  EXPECT_NEAR(c.fx, 2474.302, 1e-3);
  const UndistortMap map = make_undistort_map(800, 1200, c.fx, c.fy, c.cx, c.cy,
                                              colmap_intrinsics(read_colmap_model(statue + "/sparse/0").cameras[0], "").distortion);
  const Image got = d.image(1);
  EXPECT_EQ(got.pixels, undistort_image(raw, map).pixels);
  EXPECT_NE(got.pixels, raw.pixels);

  const Dataset all = Dataset::load(statue);
  EXPECT_EQ(all.train_ids.size(), 118u);
  EXPECT_EQ(all.points.size(), 25271u);  // NumPy count for all 118 train views
}

}  // namespace
}  // namespace sp
