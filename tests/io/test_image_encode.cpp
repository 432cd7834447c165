// engine/io/image_io.h: the in-memory encodings decode back to the image (PNG exactly at 8
// bits, JPEG within its quantization), and save_png writes the same bytes encode_png makes.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <iterator>

#include "engine/io/image_io.h"
#include "support/test_support.h"

namespace sp {
namespace {

Image gradient(int w, int h) {
  Image img(w, h, 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      img.at(x, y, 0) = float(x) / float(w - 1);
      img.at(x, y, 1) = float(y) / float(h - 1);
      img.at(x, y, 2) = 0.5f;
    }
  return img;
}

TEST(ImageEncode, PngRoundTripsAt8BitsAndMatchesSavePng) {
  const Image img = gradient(37, 21);
  const std::string png = encode_png(img);
  const Image back = decode_image(png, "png in memory", 3);
  ASSERT_EQ(back.width, 37);
  ASSERT_EQ(back.height, 21);
  for (size_t i = 0; i < img.pixels.size(); ++i)
    ASSERT_NEAR(back.pixels[i], std::round(img.pixels[i] * 255.0f) / 255.0f, 1e-6) << i;
  const std::string path = test::temp_dir("encode") + "/a.png";
  save_png(path, img);
  std::ifstream f(path, std::ios::binary);
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>()), png);
}

TEST(ImageEncode, JpegDecodesCloseToTheImage) {
  const Image img = gradient(64, 48);
  const std::string jpeg = encode_jpeg(img, 90);
  EXPECT_EQ(jpeg.substr(0, 2), std::string("\xff\xd8", 2));  // SOI marker
  const Image back = decode_image(jpeg, "jpeg in memory", 3);
  ASSERT_EQ(back.width, 64);
  double sum = 0;
  for (size_t i = 0; i < img.pixels.size(); ++i) sum += std::abs(back.pixels[i] - img.pixels[i]);
  EXPECT_LT(sum / double(img.pixels.size()), 2.0 / 255.0);  // a smooth gradient at quality 90
  EXPECT_LT(encode_jpeg(img, 30).size(), jpeg.size());
}

}  // namespace
}  // namespace sp
