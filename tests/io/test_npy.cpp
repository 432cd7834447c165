#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>

#include "engine/core/atomic_file.h"
#include "engine/core/error.h"
#include "engine/io/npy.h"
#include "support/fuzz.h"
#include "support/test_support.h"

namespace sp {
namespace {

// A .npy file built by hand with an arbitrary header version and dtype.
std::string make_npy(int major, const std::string& dict, const std::string& data) {
  std::string s("\x93NUMPY", 6);
  s += char(major);
  s += char(0);
  std::string header = dict + "\n";
  if (major == 1) {
    s += char(header.size() & 0xff);
    s += char(header.size() >> 8);
  } else {
    const uint32_t n = uint32_t(header.size());
    s.append(reinterpret_cast<const char*>(&n), 4);
  }
  return s + header + data;
}

template <class T>
std::string raw(std::initializer_list<T> values) {
  std::string s;
  for (T v : values) s.append(reinterpret_cast<const char*>(&v), sizeof(T));
  return s;
}

using ::sp::test::expect_bad_input;

TEST(Npy, WriteReadRoundTripFloat32AndFloat64) {
  const std::string dir = test::temp_dir("npy");
  const std::vector<float> f = {1.5f, -2.25f, 3.0f, 1e-30f, 7.0f, 8.0f};
  write_npy(dir + "/a.npy", {2, 3}, f.data());
  NpyArray a = read_npy(dir + "/a.npy");
  EXPECT_EQ(a.dtype, "<f4");
  EXPECT_EQ(a.shape, (std::vector<size_t>{2, 3}));
  EXPECT_EQ(a.to_float(), f);

  const std::vector<double> d = {3.141592653589793, -1e300, 0.1};
  write_npy(dir + "/b.npy", {3}, d.data());
  a = read_npy(dir + "/b.npy");
  EXPECT_EQ(a.dtype, "<f8");
  EXPECT_EQ(a.shape, (std::vector<size_t>{3}));
  EXPECT_EQ(a.data, d);  // bit-exact

  const double scalar = 42.0;
  write_npy(dir + "/c.npy", {}, &scalar);
  a = read_npy(dir + "/c.npy");
  EXPECT_TRUE(a.shape.empty());
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a.data[0], 42.0);

  // NumPy pads magic + header to a multiple of 64 bytes; 1-D shapes are written "(3,)".
  const std::string bytes = read_file(dir + "/b.npy");
  uint16_t hl = 0;
  std::memcpy(&hl, bytes.data() + 8, 2);
  EXPECT_EQ((10 + hl) % 64, 0);
  EXPECT_NE(bytes.find("'shape': (3,)"), std::string::npos);
  // Written atomically: nothing but the three files is left in the folder.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()), 3);
}

TEST(Npy, ReadsVersions2And3AndIntegerTypes) {
  NpyArray a = parse_npy(make_npy(2, "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 2), }", raw<int32_t>({1, -2, 3, 2147483647})), "v2");
  EXPECT_EQ(a.data, (std::vector<double>{1, -2, 3, 2147483647}));
  a = parse_npy(make_npy(3, "{\"descr\": \"<i8\", \"fortran_order\": False, \"shape\": (3,)}", raw<int64_t>({-5, 0, 1ll << 40})), "v3");
  EXPECT_EQ(a.data, (std::vector<double>{-5, 0, double(1ll << 40)}));
  a = parse_npy(make_npy(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (4,), }", raw<uint8_t>({0, 1, 128, 255})), "u1");
  EXPECT_EQ(a.data, (std::vector<double>{0, 1, 128, 255}));
  // Zero-size arrays are fine.
  a = parse_npy(make_npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (0, 17), }", ""), "empty");
  EXPECT_EQ(a.size(), 0u);
}

TEST(Npy, RejectsWhatItCannotRead) {
  const std::string d8 = raw<double>({1, 2, 3, 4});
  expect_bad_input([&] { parse_npy(make_npy(1, "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }", d8), "f"); },
                   "fortran_order");
  expect_bad_input([&] { parse_npy(make_npy(1, "{'descr': '>f8', 'fortran_order': False, 'shape': (2, 2), }", d8), "f"); },
                   "big-endian");
  expect_bad_input([&] { parse_npy(make_npy(1, "{'descr': '<c16', 'fortran_order': False, 'shape': (2,), }", d8), "f"); },
                   "not supported");
  expect_bad_input([&] { parse_npy(make_npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", d8), "f"); },
                   "needs 48 data bytes, found 32");
  expect_bad_input([&] { parse_npy(make_npy(4, "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }", d8), "f"); },
                   "version 4.0");
  expect_bad_input([&] { parse_npy("PK\x03\x04 not numpy", "f"); }, "not a .npy file");
  // A shape whose product overflows size_t.
  expect_bad_input([&] {
    parse_npy(make_npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16), }", d8), "f");
  }, "overflows");
  expect_bad_input([&] { read_npy("/nonexistent/poses.npy"); }, "no such file");
}

TEST(Npy, RealPosesBounds) {
  SP_REQUIRE_DATASET(fern, "fern");
  const NpyArray a = read_npy(fern + "/poses_bounds.npy");
  EXPECT_EQ(a.dtype, "<f8");
  ASSERT_EQ(a.shape, (std::vector<size_t>{20, 17}));
  EXPECT_EQ(a.data[4], 3024.0);  // hwf of row 0: h, w, f
  EXPECT_EQ(a.data[9], 4032.0);
  EXPECT_NEAR(a.data[14], 3260.52633288, 1e-6);
  EXPECT_NEAR(a.data[15], 17.74708748, 1e-6);  // near, far
  EXPECT_NEAR(a.data[16], 78.25748707, 1e-6);
}

TEST(Npz, RoundTripAndRefusesDeflate) {
  const std::vector<float> a = {1, 2, 3, 4, 5, 6};
  const std::vector<double> b = {0.5};
  const std::string zip = encode_npz({{"points", encode_npy({2, 3}, a.data())}, {"scale", encode_npy({}, b.data())}});
  auto m = parse_npz(zip, "mem.npz");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m.at("points").shape, (std::vector<size_t>{2, 3}));
  EXPECT_EQ(m.at("points").to_float(), a);
  EXPECT_EQ(m.at("scale").data, b);

  // The same archive with its entries marked deflate-compressed (method 8).
  std::string deflated = zip;
  for (size_t p = 0; (p = deflated.find("PK\x01\x02", p)) != std::string::npos; p += 4) deflated[p + 10] = 8;
  expect_bad_input([&] { parse_npz(deflated, "mem.npz"); }, "deflate");
  // A flipped data byte fails the CRC check.
  std::string corrupt = zip;
  corrupt[100] ^= 1;
  expect_bad_input([&] { parse_npz(corrupt, "mem.npz"); }, "CRC");
}

TEST(Npz, RealArchivesWrittenByNumPy) {
  SP_REQUIRE_DATASET(garden, "garden_points");
  const auto g = read_npz(garden + "/test_garden.npz");
  ASSERT_EQ(g.size(), 6u);
  EXPECT_EQ(g.at("means3d").dtype, "<f4");
  EXPECT_EQ(g.at("means3d").shape, (std::vector<size_t>{138766, 3}));
  EXPECT_EQ(g.at("colors").dtype, "|u1");
  EXPECT_EQ(g.at("colors").shape, (std::vector<size_t>{138766, 3}));
  EXPECT_EQ(g.at("viewmats").shape, (std::vector<size_t>{3, 4, 4}));
  EXPECT_EQ(g.at("Ks").shape, (std::vector<size_t>{3, 3, 3}));
  EXPECT_EQ(g.at("width").data.at(0), 648.0);
  EXPECT_EQ(g.at("height").data.at(0), 420.0);
  // viewmats are rigid transforms: last row 0 0 0 1.
  const auto& vm = g.at("viewmats").data;
  EXPECT_EQ(vm[12], 0.0);
  EXPECT_EQ(vm[15], 1.0);

  SP_REQUIRE_DATASET(dtu, "dtu_scan24");
  const auto c = read_npz(dtu + "/cameras_sphere.npz");
  EXPECT_EQ(c.size(), 294u);  // 6 matrices x 49 views
  EXPECT_EQ(c.at("world_mat_0").shape, (std::vector<size_t>{4, 4}));
  EXPECT_EQ(c.at("scale_mat_48").shape, (std::vector<size_t>{4, 4}));
}

TEST(NpyFuzz, ParserSurvivesCorruptInput) {
  const std::vector<double> d = {1, 2, 3, 4, 5, 6};
  const std::string valid = encode_npy({2, 3}, d.data());
  auto stats = test::fuzz_parser(valid, [](const std::string& s) { parse_npy(s, "fuzz.npy"); }, {.mutations = 1500, .seed = 11});
  std::printf("[fuzz] .npy: %zu calls, %zu accepted, %zu rejected\n", stats.calls, stats.accepted, stats.rejected);
  EXPECT_GT(stats.rejected, 1000u);
  const std::vector<float> f = {1, 2};
  const std::string zip = encode_npz({{"a", valid}, {"b", encode_npy({2}, f.data())}});
  stats = test::fuzz_parser(zip, [](const std::string& s) { parse_npz(s, "fuzz.npz"); }, {.mutations = 1000, .seed = 12});
  std::printf("[fuzz] .npz: %zu calls, %zu accepted, %zu rejected\n", stats.calls, stats.accepted, stats.rejected);
  EXPECT_GT(stats.rejected, 500u);
}

}  // namespace
}  // namespace sp
