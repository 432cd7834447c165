// The dark-backdrop rule of DTU-style rigs (engine/train/backdrop.h), on images with known
// answers and on a real DTU photo against its object mask.
#include <gtest/gtest.h>

#include "engine/io/image_io.h"
#include "engine/train/backdrop.h"
#include "support/test_support.h"

namespace sp {
namespace {

TEST(Backdrop, DarkColumnsFromTheTopAreBackdropAndDarkPatchesBelowBrightOnesAreNot) {
  // 8 wide, 100 tall: a black top band of 30 rows, a white table below it, and a black
  // 60-row shadow under the table in column 2..3 plus a long black column 6 from the top.
  Image im(8, 100, 3, 1.0f);
  for (int x = 0; x < 8; ++x)
    for (int y = 0; y < 30; ++y)
      for (int c = 0; c < 3; ++c) im.at(x, y, c) = 0.02f;
  for (int x = 2; x < 4; ++x)
    for (int y = 40; y < 100; ++y)
      for (int c = 0; c < 3; ++c) im.at(x, y, c) = 0.05f;
  for (int y = 0; y < 100; ++y)
    for (int c = 0; c < 3; ++c) im.at(6, y, c) = 0.0f;
  im.at(5, 10, 0) = 0.5f;  // one bright channel: not dark
  const Image m = dark_backdrop_mask(im, {30.0f / 255.0f, 49});
  ASSERT_EQ(m.channels, 1);
  EXPECT_EQ(m.at(0, 0, 0), 1.0f);    // top band: dark up to the edge
  EXPECT_EQ(m.at(0, 29, 0), 1.0f);
  EXPECT_EQ(m.at(0, 30, 0), 0.0f);   // the table
  EXPECT_EQ(m.at(2, 60, 0), 0.0f);   // a shadow with something bright above: not backdrop
  EXPECT_EQ(m.at(2, 88, 0), 0.0f);   // only 48 dark pixels above it (the run starts at row 40)
  EXPECT_EQ(m.at(2, 89, 0), 1.0f);   // 49 dark pixels above: a tall enough dark patch counts
  EXPECT_EQ(m.at(6, 99, 0), 1.0f);   // dark all the way from the top
  EXPECT_EQ(m.at(5, 10, 0), 0.0f);
  EXPECT_EQ(m.at(5, 11, 0), 0.0f);   // its dark run restarted below the bright pixel (1 of 49)
  EXPECT_EQ(m.at(5, 29, 0), 0.0f);
}

TEST(Backdrop, OnARealDtuPhotoTheBackdropLiesOutsideTheObject) {
  SP_REQUIRE_DATASET(dir, "dtu_scan24");
  const Image photo = resize_image(load_image(dir + "/images/000025.png", 3), 400, 300);
  Image mask = resize_image(load_image(dir + "/mask/025.png", 3), 400, 300);
  const Image bd = dark_backdrop_mask(photo);
  size_t backdrop = 0, on_object = 0;
  for (int y = 0; y < 300; ++y)
    for (int x = 0; x < 400; ++x)
      if (bd.at(x, y, 0) > 0.5f) {
        ++backdrop;
        on_object += mask.at(x, y, 0) > 0.5f;
      }
  std::printf("[ backdrop ] dtu_scan24 view 25: %.1f%% of the image, %.2f%% of it on the object mask\n",
              100.0 * double(backdrop) / 120000.0, 100.0 * double(on_object) / double(std::max<size_t>(1, backdrop)));
  EXPECT_GT(backdrop, 500u);                            // the black cloth top left
  EXPECT_LT(double(on_object), 0.02 * double(backdrop));  // almost none of it on the object
}

}  // namespace
}  // namespace sp
