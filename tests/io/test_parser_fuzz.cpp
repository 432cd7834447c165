// Every parser of engine/io given the empty input, prefixes of a small valid file and
// seeded random mutations: each call must succeed or throw BadInput, never crash, hang,
// throw something else or make a single allocation above 64 MiB (tests/io/alloc_limit.cpp).
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>

#include "engine/io/blender.h"
#include "engine/io/colmap.h"
#include "engine/io/compressed_ply.h"
#include "engine/io/image_io.h"
#include "engine/io/llff.h"
#include "engine/io/npy.h"
#include "engine/io/splat_file.h"
#include "engine/io/spz_file.h"
#include "support/random_model.h"
#include "support/fuzz.h"
#include "support/synthetic_colmap.h"
#include "support/gzip.h"
#include "support/test_support.h"

namespace sp {
namespace {

using sp::test::gzip_bytes;

const ColmapModel& model() {
  static const ColmapModel m = test::synthetic_colmap_model({.images = 4, .points = 12, .width = 32, .height = 24, .mixed_models = true});
  return m;
}

// The share a parser must reject, measured (seeded, deterministic) with a margin: a parser
// that stops checking (accepts everything) fails these, not only one that crashes.
void expect_rejected(const char* what, const test::FuzzStats& s, double prefixes, double mutations) {
  EXPECT_GE(s.prefix_rejected_share(), prefixes) << what << ": truncated inputs accepted";
  EXPECT_GE(s.mutation_rejected_share(), mutations) << what << ": mutated inputs accepted";
}

void report(const char* what, const test::FuzzStats& s) {
  std::printf("[fuzz] %-22s %5zu calls: %5zu accepted, %5zu rejected (prefixes %.3f, mutations %.3f), slowest %.4f s\n",
              what, s.calls, s.accepted, s.rejected, s.prefix_rejected_share(), s.mutation_rejected_share(),
              s.slowest_seconds);
}

TEST(ParserFuzz, ColmapBinary) {
  auto s = test::fuzz_parser(encode_colmap_cameras_bin(model().cameras),
                             [](const std::string& b) { parse_colmap_cameras_bin(b, "cameras.bin"); }, {.mutations = 600, .seed = 1});
  report("cameras.bin", s);
  expect_rejected("cameras.bin", s, 1.0, 0.8);  // measured 1.000 / 0.887
  s = test::fuzz_parser(encode_colmap_images_bin(model().images),
                        [](const std::string& b) { parse_colmap_images_bin(b, "images.bin"); }, {.mutations = 600, .seed = 2});
  report("images.bin", s);
  expect_rejected("images.bin", s, 1.0, 0.7);  // measured 1.000 / 0.782
  s = test::fuzz_parser(encode_colmap_points_bin(model().points),
                        [](const std::string& b) { parse_colmap_points_bin(b, "points3D.bin"); }, {.mutations = 600, .seed = 3});
  report("points3D.bin", s);
  expect_rejected("points3D.bin", s, 1.0, 0.75);  // measured 1.000 / 0.840
}

TEST(ParserFuzz, ColmapText) {
  // The converted cameras too: colmap_intrinsics must also reject, not crash, on odd values.
  auto s = test::fuzz_parser(encode_colmap_cameras_txt(model().cameras), [](const std::string& b) {
    for (const auto& c : parse_colmap_cameras_txt(b, "cameras.txt")) colmap_intrinsics(c, "cameras.txt");
  }, {.mutations = 600, .seed = 4});
  report("cameras.txt", s);
  expect_rejected("cameras.txt", s, 0.4, 0.55);  // measured 0.480 / 0.640 (text: a cut at a line end is valid)
  s = test::fuzz_parser(encode_colmap_images_txt(model().images), [](const std::string& b) {
    for (const auto& im : parse_colmap_images_txt(b, "images.txt")) {
      Camera c;
      set_colmap_pose(c, im, "images.txt");
    }
  }, {.mutations = 600, .seed = 5});
  report("images.txt", s);
  expect_rejected("images.txt", s, 0.75, 0.75);  // measured 0.833 / 0.857 (text: a cut at a line end is valid)
  s = test::fuzz_parser(encode_colmap_points_txt(model().points),
                        [](const std::string& b) { parse_colmap_points_txt(b, "points3D.txt"); }, {.mutations = 600, .seed = 6});
  report("points3D.txt", s);
  expect_rejected("points3D.txt", s, 0.65, 0.75);  // measured 0.733 / 0.860 (text: a cut at a line end is valid)
}

TEST(ParserFuzz, PosesBounds) {
  std::vector<double> rows;
  for (int i = 0; i < 2; ++i) {
    const double r[17] = {0, 1, 0, 0.5 * i, 300, -1, 0, 0, 1, 400, 0, 0, 1, 3, 500, 2, 40};
    rows.insert(rows.end(), r, r + 17);
  }
  const std::string valid = encode_npy({2, 17}, rows.data());
  ASSERT_EQ(parse_poses_bounds(parse_npy(valid, "pb"), "pb").size(), 2u);
  const auto s = test::fuzz_parser(valid, [](const std::string& b) { parse_poses_bounds(parse_npy(b, "pb.npy"), "pb.npy"); },
                                   {.mutations = 800, .seed = 7});
  report("poses_bounds.npy", s);
}

// The export formats (tests/io/test_export_formats.cpp): the unmutated file loads; truncations
// and random edits load or give BadInput, and the checked ones are rejected in the shares below.
GaussianModel fuzz_model(int degree) {
  Rng rng(17);
  return test::random_model(rng, 40, degree, 0, 1.0f);
}

std::string gunzip_bytes(const std::string& gz) {
  z_stream z{};
  inflateInit2(&z, 16 + MAX_WBITS);
  std::string out(1 << 20, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  z.avail_in = uInt(gz.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = uInt(out.size());
  inflate(&z, Z_FINISH);
  out.resize(z.total_out);
  inflateEnd(&z);
  return out;
}

TEST(ParserFuzz, SpzFile) {
  for (int version : {2, 3}) {
    const std::string valid = encode_spz(fuzz_model(1), {version});
    ASSERT_EQ(decode_spz(valid, "m.spz").size(), 40u);
    // The file's bytes: gzip's CRC and length trailer catch every cut and nearly every edit.
    auto s = test::fuzz_parser(valid, [](const std::string& b) { decode_spz(b, "m.spz"); },
                               {.mutations = 800, .seed = 9 + uint64_t(version)});
    report(version == 3 ? ".spz v3" : ".spz v2", s);
    expect_rejected(".spz", s, 1.0, 0.98);  // measured 1.000 / 1.000 (v2), 0.999 (v3)
    // The inflated header and arrays, mutated and gzip'd again: the header and size checks.
    const std::string raw = gunzip_bytes(valid);
    ASSERT_EQ(decode_spz(gzip_bytes(raw), "m.spz").size(), 40u);
    s = test::fuzz_parser(raw, [](const std::string& b) { decode_spz(gzip_bytes(b), "m.spz"); },
                          {.mutations = 800, .seed = 19 + uint64_t(version)});
    report(version == 3 ? ".spz v3 inflated" : ".spz v2 inflated", s);
    EXPECT_GT(s.accepted, 0u);  // edits of the arrays' bytes are valid files
    expect_rejected(".spz inflated", s, 1.0, 0.7);  // measured 1.000 / 0.792 (v2), 0.807 (v3)
  }
}

TEST(ParserFuzz, SplatFile) {
  const std::string valid = encode_splat(fuzz_model(0));
  ASSERT_EQ(decode_splat(valid, "m.splat").size(), 40u);
  const auto s = test::fuzz_parser(valid, [](const std::string& b) { decode_splat(b, "m.splat"); },
                                   {.mutations = 800, .seed = 12});
  report(".splat", s);
  // No header or checksum: only a size off the 32-byte grid or a non-finite / negative float
  // is detectable; cuts at a record boundary (1 in 32) and same-size edits load.
  EXPECT_GT(s.accepted, 0u);
  expect_rejected(".splat", s, 0.9, 0.75);  // measured 0.933 / 0.828
}

TEST(ParserFuzz, CompressedPly) {
  const std::string valid = encode_compressed_ply(fuzz_model(1));
  ASSERT_EQ(decode_compressed_ply_bytes(valid, "m.compressed.ply").size(), 40u);
  const auto s = test::fuzz_parser(valid, [](const std::string& b) { decode_compressed_ply_bytes(b, "m.compressed.ply"); },
                                   {.mutations = 800, .seed = 13});
  report("compressed PLY", s);
  EXPECT_GT(s.accepted, 0u);
  expect_rejected("compressed PLY", s, 1.0, 0.7);  // measured 1.000 / 0.780
}

TEST(ParserFuzz, TransformsJson) {
  const std::string dir = test::temp_dir("fuzz-json");
  std::filesystem::create_directories(dir + "/train");
  save_png(dir + "/train/r_0.png", Image(6, 4, 4, 1.0f));
  save_png(dir + "/train/r_1.png", Image(6, 4, 3, 0.5f));
  const std::string valid = R"({"camera_angle_x": 0.69, "fl_y": 7.5, "k1": 0.01,
    "frames": [{"file_path": "./train/r_0", "transform_matrix": [[1,0,0,0],[0,1,0,0],[0,0,1,4],[0,0,0,1]]},
               {"file_path": "train/r_1.png", "w": 6, "h": 4, "transform_matrix": [[0,-1,0,1],[1,0,0,2],[0,0,1,3]]}]})";
  const std::string where = dir + "/transforms.json";
  ASSERT_EQ(parse_transforms(valid, where).size(), 2u);
  const auto s = test::fuzz_parser(valid, [&](const std::string& b) { parse_transforms(b, where); }, {.mutations = 800, .seed = 8});
  report("transforms.json", s);
}

}  // namespace
}  // namespace sp
