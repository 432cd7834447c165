// What the libFuzzer targets (fuzz/, scripts/fuzz.sh) found, each rebuilt from a valid file
// so the case says what is wrong with it. Under scripts/sanitize.sh these are the inputs
// that tripped ASan / UBSan before the fixes.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "engine/core/atomic_file.h"
#include "engine/io/image_header.h"
#include "engine/io/image_io.h"
#include "engine/io/ply.h"
#include "support/test_support.h"

namespace sp {
namespace {

// fuzz/targets/image_decode, image_file: stb_image 2.27 builds a JPEG Huffman table from
// its 16 code counts without checking that they sum to at most 256, and writes past its
// 257-entry arrays (heap overflow). A valid JPEG whose first table's counts are raised.
TEST(FuzzRegressions, JpegHuffmanTableWithTooManyCodesIsBadInput) {
  Image img(8, 8, 3);
  for (size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = float(i % 5) / 4.0f;
  const std::string valid = encode_jpeg(img);
  ASSERT_NO_THROW(check_jpeg_huffman_tables(valid, "ok.jpg"));
  ASSERT_EQ(decode_image(valid, "ok.jpg").width, 8);
  const size_t dht = valid.find("\xff\xc4");
  ASSERT_NE(dht, std::string::npos);
  std::string bad = valid;
  for (size_t i = 0; i < 16; ++i) bad[dht + 5 + i] = char(0x20);  // 16 x 32 = 512 codes
  test::expect_bad_input([&] { decode_image(bad, "bad.jpg"); }, "bad.jpg: corrupt JPEG: a Huffman table of 512 codes (at most 256)");
  // The header readers run stb on the same tables (stb parses them before the frame header).
  const std::string path = test::temp_dir("fuzz-jpeg") + "/bad.jpg";
  write_text_atomic(path, bad);
  test::expect_bad_input([&] { read_image_header(path); }, "a Huffman table of 512 codes");
  test::expect_bad_input([&] { read_image_info(path); }, "a Huffman table of 512 codes");
  // A table cut by the end of the file: stb reads zeros past it, and so does the check.
  std::string cut = valid.substr(0, dht + 5 + 8);
  for (size_t i = 0; i < 8; ++i) cut[dht + 5 + i] = char(0x40);  // 8 x 64 = 512 codes
  test::expect_bad_input([&] { decode_image(cut, "cut.jpg"); }, "a Huffman table of 512 codes");
}

// The check must not refuse real photos: every JPEG of the datasets passes it and decodes.
TEST(FuzzRegressions, RealJpegsPassTheHuffmanCheck) {
  namespace fs = std::filesystem;
  const std::string root = test::data_dir();
  if (root.empty()) GTEST_SKIP() << "../shared/data absent";
  std::vector<std::string> jpegs;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file() && (e.path().extension() == ".jpg" || e.path().extension() == ".JPG"))
      jpegs.push_back(e.path().string());
  std::sort(jpegs.begin(), jpegs.end());
  if (jpegs.empty()) GTEST_SKIP() << "no JPEG under " << root;
  size_t checked = 0;
  for (size_t i = 0; i < jpegs.size(); i += std::max<size_t>(1, jpegs.size() / 40), ++checked) {
    EXPECT_NO_THROW(check_jpeg_huffman_tables(read_file(jpegs[i]), jpegs[i])) << jpegs[i];
    EXPECT_GT(read_image_header(jpegs[i]).width, 0) << jpegs[i];
  }
  std::printf("[jpeg] %zu of %zu dataset JPEGs checked\n", checked, jpegs.size());
  EXPECT_GT(checked, 0u);
}

// fuzz/targets/ply: an element with 0 rows has no row buffer (null), and reading a column
// of it added the property's offset to that null pointer (UBSan: undefined behaviour).
TEST(FuzzRegressions, PlyElementWithNoRowsReadsAsEmpty) {
  for (const char* format : {"ascii", "binary_little_endian", "binary_big_endian"}) {
    const std::string text = std::string("ply\nformat ") + format +
                             " 1.0\nelement vertex 0\nproperty float x\nproperty uchar red\nend_header\n";
    const ply::PlyData d = ply::read_ply_bytes(text, "empty.ply");
    EXPECT_TRUE(d.floats("vertex", "red").empty()) << format;
    EXPECT_TRUE(d.doubles("vertex", "x").empty()) << format;
  }
}

}  // namespace
}  // namespace sp
