// What the libFuzzer targets (fuzz/, scripts/fuzz.sh) found, each rebuilt from a valid file
// so the case says what is wrong with it. Under scripts/sanitize.sh these are the inputs
// that tripped ASan / UBSan before the fixes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <vector>

#include <zlib.h>

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

// fuzz/targets/image_decode, image_file (out-of-memory): stb_image allocates the length an
// IDAT chunk claims (up to 2 GiB) before finding that the file ends sooner. A valid PNG whose
// IDAT length is raised to 1 GiB.
TEST(FuzzRegressions, PngChunkLongerThanTheFileIsBadInput) {
  const std::string valid = encode_png(Image(6, 4, 3, 0.25f));
  ASSERT_NO_THROW(check_png_chunk_lengths(valid, "ok.png"));
  const size_t idat = valid.find("IDAT");
  ASSERT_NE(idat, std::string::npos);
  std::string bad = valid;
  bad[idat - 4] = 0x40, bad[idat - 3] = 0, bad[idat - 2] = 0, bad[idat - 1] = 0;  // 2^30, big-endian
  test::expect_bad_input([&] { decode_image(bad, "bad.png"); }, "bad.png: corrupt PNG: chunk IDAT at byte 33 claims 1073741824 bytes");
  const std::string path = test::temp_dir("fuzz-png") + "/bad.png";
  write_text_atomic(path, bad);
  test::expect_bad_input([&] { load_mask_image(path, 3, 2); }, "chunk IDAT at byte 33 claims 1073741824 bytes");
}

// A deflate bomb: a 16x16 grey PNG whose IDAT inflates to 256 MiB of zeros (256 KiB on disk).
// stb grows its buffer with the inflated data, not the header; the decode is held to what
// the header allows and fails in one line instead of taking the memory.
TEST(FuzzRegressions, PngDeflateBombIsRefusedWithoutInflatingIt) {
  std::string idat;
  {
    z_stream z{};
    ASSERT_EQ(deflateInit(&z, 9), Z_OK);
    const std::vector<unsigned char> zeros(1 << 20, 0);
    std::vector<unsigned char> out(1 << 16);
    for (int mb = 0; mb < 256; ++mb) {
      z.next_in = const_cast<unsigned char*>(zeros.data());
      z.avail_in = uInt(zeros.size());
      const int flush = mb == 255 ? Z_FINISH : Z_NO_FLUSH;
      int rc = Z_OK;
      do {
        z.next_out = out.data();
        z.avail_out = uInt(out.size());
        rc = deflate(&z, flush);
        idat.append(reinterpret_cast<const char*>(out.data()), out.size() - z.avail_out);
      } while (z.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
    }
    deflateEnd(&z);
  }
  const auto be32 = [](uint32_t v) {
    return std::string{char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
  };
  const auto chunk = [&](const std::string& type, const std::string& data) {
    const std::string body = type + data;
    const uint32_t crc = uint32_t(crc32(0, reinterpret_cast<const Bytef*>(body.data()), uInt(body.size())));
    return be32(uint32_t(data.size())) + body + be32(crc);
  };
  const std::string ihdr = be32(16) + be32(16) + std::string{8, 0, 0, 0, 0};  // 8-bit grey, no interlace
  const std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + chunk("IHDR", ihdr) + chunk("IDAT", idat) + chunk("IEND", "");
  std::printf("[deflate bomb] %zu bytes inflating to 256 MiB for a 16x16 image\n", png.size());
  ASSERT_LT(png.size(), size_t(1) << 20);
  test::expect_bad_input([&] { decode_image(png, "bomb.png"); }, "bomb.png: cannot decode image (");
  // The same image with honest data decodes.
  EXPECT_NO_THROW(decode_image(encode_png(Image(16, 16, 1, 0.5f)), "ok.png"));
}

// The checks must not refuse real photos: a sample of the datasets' JPEGs and PNGs passes
// them and their headers read.
TEST(FuzzRegressions, RealImagesPassTheChecks) {
  namespace fs = std::filesystem;
  const std::string root = test::data_dir();
  if (root.empty()) GTEST_SKIP() << "../shared/data absent";
  for (const std::string ext : {".jpg", ".png"}) {
    std::vector<std::string> files;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
      std::string x = e.path().extension().string();
      std::transform(x.begin(), x.end(), x.begin(), [](unsigned char c) { return char(std::tolower(c)); });
      if (e.is_regular_file() && x == ext) files.push_back(e.path().string());
    }
    std::sort(files.begin(), files.end());
    size_t checked = 0;
    for (size_t i = 0; i < files.size(); i += std::max<size_t>(1, files.size() / 40), ++checked) {
      const std::string bytes = read_file(files[i]);
      EXPECT_NO_THROW(check_jpeg_huffman_tables(bytes, files[i])) << files[i];
      EXPECT_NO_THROW(check_png_chunk_lengths(bytes, files[i])) << files[i];
      EXPECT_GT(read_image_header(files[i]).width, 0) << files[i];
    }
    std::printf("[images] %zu of %zu dataset %s files checked\n", checked, files.size(), ext.c_str());
  }
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
