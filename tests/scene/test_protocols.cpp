// --protocol: the published sparse-view splits and resolutions on the real scenes
// (../shared/data), forced or detected. The lists are RegNeRF's / FSGS's / DNGaussian's:
// LLFF every 8th view tests and train = round(linspace) over the rest; DTU train 25, 22, 28
// and the 25 test views; Blender train ids 2, 16, 26, 55, 73, 76, 86, 93 and the 25 test frames.
#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

#include "engine/scene/dataset.h"
#include "support/test_support.h"

namespace sp {
namespace {

using V = std::vector<int>;

DatasetOptions with(const std::string& protocol, int train_views) {
  DatasetOptions o;
  o.protocol = protocol;
  o.train_views = train_views;
  return o;
}

TEST(Protocols, LlffOnFernAtOneEighth) {
  SP_REQUIRE_DATASET(root, "fern");
  const Dataset d = Dataset::load(root, with("llff", 3));
  EXPECT_EQ(d.train_ids, (V{1, 10, 19}));
  EXPECT_EQ(d.test_ids, (V{0, 8, 16}));
  EXPECT_EQ(d.cameras[0].width, 504);
  EXPECT_EQ(d.cameras[0].height, 378);
  // auto detects the same split; an explicit size wins over the protocol's.
  DatasetOptions a = with("auto", 3);
  a.resolution = 252;
  const Dataset e = Dataset::load(root, a);
  EXPECT_EQ(e.train_ids, d.train_ids);
  EXPECT_EQ(e.cameras[0].width, 252);
}

// Public LLFF copies often hold the 1/8-size photos in images/ (and no images_8/): the
// protocol's 1/8 is a fraction of the capture poses_bounds records (4032x3024), not of the
// files, so the run still trains at 504x378; files at 1/4 are shrunk to the same size.
TEST(Protocols, LlffSizeIsRelativeToTheCaptureNotTheFiles) {
  SP_REQUIRE_DATASET(root, "fern");
  namespace fs = std::filesystem;
  for (const char* folder : {"images_8", "images_4"}) {
    const fs::path copy = test::temp_dir(std::string("fern-") + folder + "-as-images");
    fs::copy_file(fs::path(root) / "poses_bounds.npy", copy / "poses_bounds.npy");
    fs::create_directory(copy / "images");
    for (const auto& e : fs::directory_iterator(fs::path(root) / folder))
      fs::create_symlink(e.path(), copy / "images" / e.path().filename());
    const Dataset d = Dataset::load(copy.string(), with("llff", 3));
    EXPECT_EQ(d.cameras[0].width, 504) << folder;
    EXPECT_EQ(d.cameras[0].height, 378) << folder;
    EXPECT_EQ(d.image(d.train_ids[0]).width, 504) << folder;
    EXPECT_EQ(d.train_ids, (V{1, 10, 19})) << folder;
  }
}

TEST(Protocols, DtuOnScan24AtOneQuarterWithMasks) {
  SP_REQUIRE_DATASET(root, "dtu_scan24");
  const Dataset d = Dataset::load(root, with("dtu", 3));
  EXPECT_EQ(d.train_ids, (V{22, 25, 28}));
  EXPECT_EQ(d.test_ids, (V{1, 2, 9, 10, 11, 12, 14, 15, 23, 24, 26, 27, 29, 30, 31, 32, 33, 34, 35, 41, 42, 43, 45,
                           46, 47}));
  EXPECT_EQ(d.cameras[0].width, 400);
  EXPECT_EQ(d.cameras[0].height, 300);
  ASSERT_EQ(d.mask_paths.size(), 49u);
  const Image m = d.mask(d.test_ids[0]);
  EXPECT_EQ(m.width, 400);
  EXPECT_EQ(Dataset::load(root, with("dtu", 9)).train_ids, (V{0, 8, 13, 22, 25, 28, 40, 44, 48}));
  // The LLFF rule can be forced on the same 49 views.
  const Dataset l = Dataset::load(root, with("llff", 3));
  EXPECT_EQ(l.test_ids.front(), 0);
  EXPECT_EQ(l.test_ids.size(), 7u);  // 0, 8, ..., 48
}

TEST(Protocols, BlenderOnLegoAtHalf) {
  SP_REQUIRE_DATASET(root, "lego");
  const Dataset d = Dataset::load(root, with("blender", 8));
  EXPECT_EQ(d.train_ids, (V{2, 16, 26, 55, 73, 76, 86, 93}));
  EXPECT_EQ(d.test_ids.size(), 25u);
  EXPECT_EQ(d.test_ids.front(), 100);
  EXPECT_EQ(d.cameras[0].width, 400);
}

TEST(Protocols, AProtocolTheDatasetCannotFollowIsBadInput) {
  SP_REQUIRE_DATASET(fern, "fern");
  test::expect_bad_input([&] { Dataset::load(fern, with("dtu", 3)); }, "49 DTU views");
  DatasetOptions b = with("blender", 3);
  b.downscale = 8;  // fern has no images_2/ for the Blender protocol's default size
  test::expect_bad_input([&] { Dataset::load(fern, b); }, "Blender protocol");
  test::expect_bad_input([&] { Dataset::load(fern, with("nerf", 3)); }, "unknown protocol");
}

}  // namespace
}  // namespace sp
