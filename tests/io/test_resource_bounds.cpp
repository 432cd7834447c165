// Issue #17, item 3: a tiny file whose header claims a huge count is refused with one clear
// BadInput line before anything big is allocated. Every call runs under a 1 MiB limit on
// single allocations (tests/io/alloc_limit.cpp); images are decoded by stb with malloc, so
// for them the evidence is the memory-budget message (engine/core/memory_budget.h), which is
// checked before stb is called.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <new>

#include "engine/core/atomic_file.h"
#include "engine/core/error.h"
#include "engine/core/memory_budget.h"
#include "engine/io/image_header.h"
#include "engine/io/image_io.h"
#include "engine/io/llff.h"
#include "engine/io/npy.h"
#include "engine/io/colmap.h"
#include "engine/io/ply.h"
#include "engine/io/zip_archive.h"
#include "support/fuzz.h"
#include "support/test_support.h"

namespace sp {
namespace {

// Runs parse under the allocation limit; it must throw BadInput whose one-line message holds
// every needle. Returns the message (printed, so the log shows what a user would read).
std::string expect_refused(const std::function<void()>& parse, std::initializer_list<std::string> needles) {
  std::string what;
  bool bad_input = false, bad_alloc = false;
  test::set_allocation_limit(size_t(1) << 20);
  try {
    parse();
  } catch (const Error& e) {
    what = e.what();
    bad_input = e.kind() == ErrorKind::BadInput;
  } catch (const std::bad_alloc&) {
    bad_alloc = true;
  }
  test::set_allocation_limit(0);
  EXPECT_FALSE(bad_alloc) << "asked for more than 1 MiB at once";
  EXPECT_TRUE(bad_input) << "expected BadInput, got: '" << what << "'";
  EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  for (const std::string& n : needles) EXPECT_NE(what.find(n), std::string::npos) << "'" << n << "' not in: " << what;
  std::printf("[bounds] %s\n", what.c_str());
  return what;
}

template <class T>
void put(std::string& s, T v) {
  s.append(reinterpret_cast<const char*>(&v), sizeof v);
}

TEST(ResourceBounds, PlyVertexAndListCounts) {
  const auto parse = [](const std::string& b) { ply::read_ply_bytes(b, "big.ply"); };
  expect_refused([&] { parse("ply\nformat binary_little_endian 1.0\nelement vertex 1000000000000\nproperty float x\nend_header\n" +
                             std::string(12, '\0')); },
                 {"big.ply", "vertex", "1000000000000"});
  expect_refused([&] { parse("ply\nformat ascii 1.0\nelement vertex 1000000000000\nproperty float x\nend_header\n1\n2\n"); },
                 {"big.ply", "vertex", "1000000000000"});
  // One face whose list claims 4 billion indices.
  std::string list = "ply\nformat binary_little_endian 1.0\nelement face 1\nproperty list uint int vertex_indices\nend_header\n";
  put<uint32_t>(list, 0xffffffffu);
  put<int32_t>(list, 7);
  expect_refused([&] { parse(list); }, {"big.ply", "face"});
}

TEST(ResourceBounds, ColmapCounts) {
  std::string cams;
  put<uint64_t>(cams, 1000000000000000ull);
  cams += std::string(48, '\0');
  expect_refused([&] { parse_colmap_cameras_bin(cams, "cameras.bin"); }, {"cameras.bin", "camera count is 1000000000000000"});

  std::string images;  // one image, then a 2D point count of 10^15
  put<uint64_t>(images, 1);
  put<uint32_t>(images, 1);
  for (int k = 0; k < 7; ++k) put<double>(images, k == 0 ? 1.0 : 0.0);
  put<uint32_t>(images, 1);
  images += std::string("a.png") + '\0';
  put<uint64_t>(images, 1000000000000000ull);
  images += std::string(48, '\0');
  expect_refused([&] { parse_colmap_images_bin(images, "images.bin"); }, {"images.bin", "2D point", "1000000000000000"});

  std::string points;  // one point, then a track of 10^15 elements
  put<uint64_t>(points, 1);
  put<uint64_t>(points, 7);
  for (int k = 0; k < 3; ++k) put<double>(points, 0.0);
  points += std::string(3, '\x80');
  put<double>(points, 0.5);
  put<uint64_t>(points, 1000000000000000ull);
  points += std::string(16, '\0');
  expect_refused([&] { parse_colmap_points_bin(points, "points3D.bin"); }, {"points3D.bin", "track", "1000000000000000"});
}

TEST(ResourceBounds, NpyShapes) {
  const std::string header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000, 1000000), }";
  std::string npy = std::string("\x93NUMPY\x01\x00", 8);
  std::string h = header;
  while ((10 + h.size() + 1) % 64) h += ' ';
  h += '\n';
  put<uint16_t>(npy, uint16_t(h.size()));
  npy += h + std::string(16, '\0');
  expect_refused([&] { parse_npy(npy, "big.npy"); }, {"big.npy", "(1000000,1000000)", "needs 8000000000000 data bytes"});
  // The same header as poses_bounds.npy: refused by the array reader before LLFF sees it.
  expect_refused([&] { parse_poses_bounds(parse_npy(npy, "poses_bounds.npy"), "poses_bounds.npy"); },
                 {"poses_bounds.npy", "(1000000,1000000)", "needs 8000000000000 data bytes"});
  // Inside an .npz: the entry's bytes are checked the same way.
  expect_refused([&] { parse_npz(encode_npz({{"big", npy}}), "big.npz"); }, {"big.npz", "(1000000,1000000)", "needs 8000000000000 data bytes"});
}

// A PNG signature and IHDR chunk (valid CRC) claiming width x height RGB, then a tiny IDAT.
std::string png_header(uint32_t width, uint32_t height) {
  const auto be32 = [](std::string& s, uint32_t v) {
    for (int k = 3; k >= 0; --k) s += char((v >> (8 * k)) & 0xff);
  };
  const auto chunk = [&](std::string& s, const char* type, const std::string& data) {
    be32(s, uint32_t(data.size()));
    const std::string body = std::string(type, 4) + data;
    s += body;
    be32(s, uint32_t(crc32(0, reinterpret_cast<const Bytef*>(body.data()), uInt(body.size()))));
  };
  std::string png("\x89PNG\r\n\x1a\n", 8), ihdr;
  be32(ihdr, width);
  be32(ihdr, height);
  ihdr += std::string("\x08\x02\x00\x00\x00", 5);  // 8-bit RGB, no interlace
  chunk(png, "IHDR", ihdr);
  chunk(png, "IDAT", std::string("\x78\x9c\x03\x00\x00\x00\x00\x01", 8));
  chunk(png, "IEND", "");
  return png;
}

// A baseline JPEG's SOI and SOF0 claiming width x height, 3 components.
std::string jpeg_header(uint16_t width, uint16_t height) {
  std::string j("\xff\xd8\xff\xc0\x00\x11\x08", 7);
  j += char(height >> 8), j += char(height & 0xff), j += char(width >> 8), j += char(width & 0xff);
  j += std::string("\x03\x01\x11\x00\x02\x11\x01\x03\x11\x01", 10);
  return j + std::string("\xff\xd9", 2);
}

// A ZIP entry whose directory claims 4 GB (local and central headers patched alike, so the
// archive opens) is read into a buffer that grows with the data, not with the claim.
TEST(ResourceBounds, ZipEntryClaimingGigabytes) {
  const std::string dir = test::temp_dir("bounds-zip");
  {
    ZipWriter w(dir + "/ok.zip");
    w.add_bytes("scene/a.png", std::string(100, 'x'));
    w.commit();
  }
  std::string bytes = read_file(dir + "/ok.zip");
  const uint32_t huge = 0xFFFFFF00u;
  int patched = 0;
  for (size_t at = 0; at + 4 <= bytes.size(); ++at) {
    if (bytes.compare(at, 4, "PK\x03\x04") == 0) std::memcpy(&bytes[at + 22], &huge, 4), ++patched;  // local
    if (bytes.compare(at, 4, "PK\x01\x02") == 0) std::memcpy(&bytes[at + 24], &huge, 4), ++patched;  // central
  }
  ASSERT_EQ(patched, 2);
  write_text_atomic(dir + "/claims.zip", bytes);
  expect_refused(
      [&] {
        const ZipReader zip(dir + "/claims.zip");
        ASSERT_EQ(zip.entries().size(), 1u);
        EXPECT_EQ(zip.entries()[0].size, uint64_t(huge));
        (void)zip.read(0);
      },
      {"claims.zip: scene/a.png"});
  // Under a budget smaller than the claim, the claim alone is refused.
  const ScopedMemoryBudget budget(size_t(1) << 30);
  expect_refused([&] { (void)ZipReader(dir + "/claims.zip").read(0); }, {"reading the entry needs", "memory budget"});
  EXPECT_EQ(ZipReader(dir + "/ok.zip").read(0), std::string(100, 'x'));
}

TEST(ResourceBounds, ImageDimensionsAgainstTheMemoryBudget) {
  set_memory_budget(size_t(1) << 30);  // 1 GiB: the same result on any machine
  // 15000 x 15000 RGB: within stb's own limit, 3.4 GB once decoded to floats.
  expect_refused([] { decode_image(png_header(15000, 15000), "huge.png"); },
                 {"huge.png", "15000x15000", "memory budget of 1024 MiB"});
  expect_refused([] { decode_image(jpeg_header(60000, 60000), "huge.jpg"); }, {"huge.jpg", "60000x60000", "memory budget"});
  // 100000 x 100000: stb refuses it already when reading the header (its reason is lost:
  // stb tries every format and keeps the last one's complaint).
  expect_refused([] { decode_image(png_header(100000, 100000), "huger.png"); }, {"huger.png", "not a readable image"});
  // The dataset loaders' header check refuses it too, before any view is decoded.
  const std::string dir = test::temp_dir("bounds-image");
  write_text_atomic(dir + "/huge.png", png_header(15000, 15000));
  expect_refused([&] { read_image_header(dir + "/huge.png"); }, {"huge.png", "15000x15000", "memory budget"});
  // A real small image still decodes under the same budget.
  EXPECT_EQ(decode_image(encode_png(Image(5, 4, 3, 0.5f)), "small.png").width, 5);
  set_memory_budget(0);
}

}  // namespace
}  // namespace sp
