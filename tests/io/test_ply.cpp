// Generic PLY reader/writer: formats, types, lists, and clear errors for bad files.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/core/error.h"
#include "engine/io/ply.h"
#include "support/fuzz.h"
#include "support/test_support.h"

namespace sp {
namespace {

// Runs fn, expecting a BadInput error whose message contains `needle`.
using ::sp::test::expect_bad_input;

ply::PlyData parse(const std::string& bytes, const ply::ReadOptions& options = {}) {
  return ply::read_ply_bytes(bytes, "test.ply", options);
}

// Appends v in big-endian byte order.
template <class T>
void put_be(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  for (size_t i = 0; i < sizeof(T); ++i) out.push_back(b[sizeof(T) - 1 - i]);
}
template <class T>
void put_le(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.append(b, sizeof(T));
}

TEST(Ply, WriteReadRoundTripEveryType) {
  const size_t n = 7;
  std::vector<int8_t> i8(n);
  std::vector<uint8_t> u8(n);
  std::vector<int16_t> i16(n);
  std::vector<uint16_t> u16(n);
  std::vector<int32_t> i32(n);
  std::vector<uint32_t> u32(n);
  std::vector<float> xyz(n * 3);
  std::vector<double> f64(n);
  for (size_t i = 0; i < n; ++i) {
    i8[i] = int8_t(-100 + 30 * int(i));
    u8[i] = uint8_t(200 + i);
    i16[i] = int16_t(-30000 + 1000 * int(i));
    u16[i] = uint16_t(65000 + i);
    i32[i] = -2000000000 + int32_t(i);
    u32[i] = 4000000000u + uint32_t(i);
    for (int k = 0; k < 3; ++k) xyz[i * 3 + k] = float(i) * 0.5f + float(k) * 1e-3f;
    f64[i] = 1.0 / 3.0 + double(i);
  }
  using ply::Column;
  using ply::Type;
  ply::ElementOut e{"vertex", n, {}};
  e.columns = {Column::of("x", xyz.data(), 3),
               Column::of("y", xyz.data() + 1, 3),
               Column::of("z", xyz.data() + 2, 3),
               Column{"a", Type::Int8, i8.data(), 1},
               Column{"b", Type::UInt8, u8.data(), 1},
               Column{"c", Type::Int16, i16.data(), 2},
               Column{"d", Type::UInt16, u16.data(), 2},
               Column{"e", Type::Int32, i32.data(), 4},
               Column{"f", Type::UInt32, u32.data(), 4},
               Column{"g", Type::Float64, f64.data(), 8}};
  ply::ElementOut empty{"nothing", 0, {Column::of("v", nullptr)}};
  const std::string path = test::temp_dir("ply") + "/all.ply";
  ply::write_ply(path, {e, empty}, {"hello world"});

  const ply::PlyData d = ply::read_ply(path);
  EXPECT_EQ(d.header().format, ply::Format::BinaryLittleEndian);
  ASSERT_EQ(d.header().comments.size(), 1u);
  EXPECT_EQ(d.header().comments[0], "hello world");
  ASSERT_NE(d.element("vertex"), nullptr);
  EXPECT_EQ(d.element("vertex")->count, n);
  EXPECT_EQ(d.element("vertex")->properties.size(), 10u);
  ASSERT_NE(d.element("nothing"), nullptr);
  EXPECT_EQ(d.element("nothing")->count, 0u);
  EXPECT_TRUE(d.floats("nothing", "v").empty());
  const auto y = d.floats("vertex", "y");
  const auto a = d.doubles("vertex", "a"), b = d.doubles("vertex", "b"), c = d.doubles("vertex", "c"),
             dd = d.doubles("vertex", "d"), ee = d.doubles("vertex", "e"), f = d.doubles("vertex", "f"),
             g = d.doubles("vertex", "g");
  for (size_t i = 0; i < n; ++i) {
    EXPECT_EQ(y[i], xyz[i * 3 + 1]);
    EXPECT_EQ(a[i], i8[i]);
    EXPECT_EQ(b[i], u8[i]);
    EXPECT_EQ(c[i], i16[i]);
    EXPECT_EQ(dd[i], u16[i]);
    EXPECT_EQ(ee[i], i32[i]);
    EXPECT_EQ(f[i], u32[i]);
    EXPECT_EQ(g[i], f64[i]);
  }
  // copy_floats into a strided destination, block by block.
  std::vector<float> back(n * 3, -1.0f);
  d.copy_floats("vertex", "z", back.data() + 2, 3, 0, 4);
  d.copy_floats("vertex", "z", back.data() + 2, 3, 4);
  for (size_t i = 0; i < n; ++i) EXPECT_EQ(back[i * 3 + 2], xyz[i * 3 + 2]);
  EXPECT_EQ(back[0], -1.0f);
  // The file is exactly header + 7 rows of (3*4 + 1 + 1 + 2 + 2 + 4 + 4 + 8) bytes.
  const std::string bytes = [&] {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }();
  EXPECT_EQ(bytes.size(), d.header().data_offset + n * 34);
  EXPECT_EQ(bytes.substr(0, 36), "ply\nformat binary_little_endian 1.0\n");
}

TEST(Ply, AsciiWithListsAndAliases) {
  const std::string text =
      "ply\r\n"
      "format ascii 1.0\r\n"
      "comment made by hand\r\n"
      "obj_info some info\r\n"
      "element vertex 3\r\n"
      "property float32 x\r\n"
      "property float64 y\r\n"
      "property int8 k\r\n"
      "property uint16 u\r\n"
      "element face 2\r\n"
      "property list uint8 int32 vertex_indices\r\n"
      "property uchar flag\r\n"
      "end_header\r\n"
      "0.5 -1e-3 -128 65535\r\n"
      "+1 2.25 127 0\n"
      "nan inf 0 7\n"
      "3 0 1 2 1\n"
      "4 0 1 2 -2147483648 0\n";
  const ply::PlyData d = parse(text);
  EXPECT_EQ(d.header().format, ply::Format::Ascii);
  ASSERT_EQ(d.header().comments.size(), 2u);
  EXPECT_EQ(d.header().comments[0], "made by hand");
  const auto x = d.floats("vertex", "x");
  const auto y = d.doubles("vertex", "y");
  const auto k = d.doubles("vertex", "k");
  const auto u = d.doubles("vertex", "u");
  EXPECT_EQ(x[0], 0.5f);
  EXPECT_EQ(x[1], 1.0f);
  EXPECT_TRUE(std::isnan(x[2]));
  EXPECT_EQ(y[0], -1e-3);
  EXPECT_TRUE(std::isinf(y[2]));
  EXPECT_EQ(k[0], -128);
  EXPECT_EQ(k[1], 127);
  EXPECT_EQ(u[0], 65535);
  EXPECT_EQ(u[2], 7);
  const auto& faces = d.list("face", "vertex_indices");
  ASSERT_EQ(faces.offsets.size(), 3u);
  EXPECT_EQ(faces.offsets[1], 3u);
  EXPECT_EQ(faces.offsets[2], 7u);
  EXPECT_EQ(faces.values[6], -2147483648.0);
  EXPECT_EQ(d.doubles("face", "flag")[0], 1);
  EXPECT_EQ(d.doubles("face", "flag")[1], 0);

  ply::ReadOptions skip;
  skip.read_lists = false;
  const ply::PlyData s = parse(text, skip);
  EXPECT_TRUE(s.list("face", "vertex_indices").values.empty());
  EXPECT_EQ(s.doubles("face", "flag")[1], 0);
  expect_bad_input([&] { (void)d.floats("face", "vertex_indices"); }, "is a list");
  expect_bad_input([&] { (void)d.list("face", "flag"); }, "is a scalar");
  expect_bad_input([&] { (void)d.floats("edge", "x"); }, "no element \"edge\"");
  expect_bad_input([&] { (void)d.floats("vertex", "w"); }, "no property \"w\"");
}

TEST(Ply, BigEndianBinaryWithList) {
  std::string bytes =
      "ply\nformat binary_big_endian 1.0\nelement vertex 2\nproperty float x\nproperty short s\n"
      "property double d\nelement face 1\nproperty list uchar uint idx\nend_header\n";
  put_be<float>(bytes, 1.5f);
  put_be<int16_t>(bytes, -2);
  put_be<double>(bytes, 1e300);
  put_be<float>(bytes, -0.25f);
  put_be<int16_t>(bytes, 300);
  put_be<double>(bytes, -3.0);
  bytes.push_back(char(2));
  put_be<uint32_t>(bytes, 4000000000u);
  put_be<uint32_t>(bytes, 5);
  const ply::PlyData d = parse(bytes);
  EXPECT_EQ(d.floats("vertex", "x"), (std::vector<float>{1.5f, -0.25f}));
  EXPECT_EQ(d.doubles("vertex", "s"), (std::vector<double>{-2, 300}));
  EXPECT_EQ(d.doubles("vertex", "d"), (std::vector<double>{1e300, -3.0}));
  EXPECT_EQ(d.list("face", "idx").values, (std::vector<double>{4000000000.0, 5}));

  // The same data little-endian reads the same (and with lists: through the copy path).
  std::string le =
      "ply\nformat binary_little_endian 1.0\nelement vertex 2\nproperty float x\nproperty short s\n"
      "property double d\nelement face 1\nproperty list uchar uint idx\nend_header\n";
  put_le<float>(le, 1.5f);
  put_le<int16_t>(le, -2);
  put_le<double>(le, 1e300);
  put_le<float>(le, -0.25f);
  put_le<int16_t>(le, 300);
  put_le<double>(le, -3.0);
  le.push_back(char(2));
  put_le<uint32_t>(le, 4000000000u);
  put_le<uint32_t>(le, 5);
  const ply::PlyData l = parse(le);
  EXPECT_EQ(l.floats("vertex", "x"), d.floats("vertex", "x"));
  EXPECT_EQ(l.doubles("vertex", "d"), d.doubles("vertex", "d"));
  EXPECT_EQ(l.list("face", "idx").values, d.list("face", "idx").values);
}

TEST(Ply, TruncatedBinarySaysHowFarTheFileGoes) {
  std::string bytes = "ply\nformat binary_little_endian 1.0\nelement vertex 27509\nproperty float x\nproperty float y\nend_header\n";
  for (int i = 0; i < 2400; ++i) put_le<float>(bytes, 1.0f);  // 1200 rows of 8 bytes
  expect_bad_input([&] { parse(bytes); }, "element vertex declares 27509 rows of 8 bytes but the file ends after 1200");
  // A count far beyond the file size fails before any allocation (no bad_alloc).
  std::string huge = "ply\nformat binary_little_endian 1.0\nelement vertex 18446744073709551615\nproperty float x\nend_header\n";
  expect_bad_input([&] { parse(huge); }, "declares 18446744073709551615 rows");
  std::string huge_ascii = "ply\nformat ascii 1.0\nelement vertex 1000000000000\nproperty float x\nend_header\n1 2 3\n";
  expect_bad_input([&] { parse(huge_ascii); }, "holds at most 3 values");
  std::string list = "ply\nformat binary_little_endian 1.0\nelement face 1\nproperty list uchar int idx\nend_header\n";
  list.push_back(char(200));
  put_le<int32_t>(list, 1);
  expect_bad_input([&] { parse(list); }, "list idx declares 200 items but the file ends after 1");
  std::string negative = "ply\nformat binary_little_endian 1.0\nelement face 1\nproperty list char int idx\nend_header\n";
  negative.push_back(char(-1));
  expect_bad_input([&] { parse(negative); }, "declares -1 items");
  // An element without properties holds no bytes, whatever its count.
  EXPECT_EQ(parse("ply\nformat ascii 1.0\nelement marker 1000000000000000\nend_header\n").element("marker")->count,
            1000000000000000u);
}

TEST(Ply, HeaderErrorsAreClear) {
  expect_bad_input([] { parse(""); }, "not a PLY file");
  expect_bad_input([] { parse("plz\n"); }, "not a PLY file");
  expect_bad_input([] { parse("ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\n"); }, "no end_header");
  expect_bad_input([] { parse("ply\nelement vertex 0\nend_header\n"); }, "no format line");
  expect_bad_input([] { parse("ply\nformat binary 1.0\nend_header\n"); }, "unknown format \"binary\"");
  expect_bad_input([] { parse("ply\nformat ascii 2.0\nend_header\n"); }, "unsupported PLY version 2.0");
  expect_bad_input([] { parse("ply\nformat ascii 1.0\nproperty float x\nend_header\n"); }, "property before any element");
  expect_bad_input([] { parse("ply\nformat ascii 1.0\nelement v 1\nproperty half x\nend_header\n"); },
                   "line 4: unknown type \"half\"");
  expect_bad_input([] { parse("ply\nformat ascii 1.0\nelement v -1\nend_header\n"); }, "is not a non-negative integer");
  expect_bad_input([] { parse("ply\nformat ascii 1.0\nelement v 1\nproperty float x\nproperty float x\nend_header\n"); },
                   "declared twice");
  expect_bad_input([] { parse("ply\nformat ascii 1.0\nelement v 1\nelement v 1\nend_header\n"); }, "declared twice");
  expect_bad_input([] { parse("ply\nformat ascii 1.0\nelement v 1\nproperty list float int i\nend_header\n"); },
                   "must be an integer type");
  expect_bad_input([] { parse("ply\nformat ascii 1.0\nfoo\nend_header\n"); }, "unknown keyword \"foo\"");
  expect_bad_input([] { parse("ply\nformat ascii 1.0\nelement v 2\nproperty uchar c\nend_header\n1 256\n"); },
                   "row 1 property c: 256 does not fit type uchar");
  expect_bad_input([] { parse("ply\nformat ascii 1.0\nelement v 2\nproperty float c\nend_header\n1 x2\n"); },
                   "\"x2\" is not a number");
  expect_bad_input([] { parse("ply\nformat ascii 1.0\nelement v 2\nproperty int c\nend_header\n1 2.5\n"); },
                   "\"2.5\" is not an integer");
  expect_bad_input([] { parse("ply\nformat ascii 1.0\nelement v 3\nproperty int c\nend_header\n1 2 \n"); },
                   "row 2 property c: file ends early");
  expect_bad_input([] { ply::read_ply("/nonexistent/file.ply"); }, "no such file");
}

TEST(Ply, ReadsTheOpenSplatFileGenerically) {
  SP_REQUIRE_DATASET(dir, "opensplat_statue");
  const ply::PlyData d = ply::read_ply(dir + "/point_cloud.ply");
  const ply::Element* v = d.element("vertex");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->count, 27509u);
  EXPECT_EQ(v->properties.size(), 62u);
  EXPECT_EQ(d.header().format, ply::Format::BinaryLittleEndian);
  for (const ply::Property& p : v->properties) EXPECT_EQ(p.type, ply::Type::Float32) << p.name;
  for (float x : d.floats("vertex", "x")) ASSERT_TRUE(std::isfinite(x));
}

// The shared mutation fuzzer (tests/support/fuzz.h) on every format the parser reads; in
// test_io any single allocation above 64 MiB fails the test (tests/io/alloc_limit.cpp),
// so a count trusted before checking it against the file size would show up here.
TEST(Ply, MutatedFilesGiveBadInputOrParse) {
  std::vector<std::string> seeds;
  {
    std::vector<float> xyz(40 * 3);
    std::vector<uint8_t> rgb(40 * 3);
    for (size_t i = 0; i < xyz.size(); ++i) xyz[i] = float(i) * 0.25f - 3.0f, rgb[i] = uint8_t(i * 7);
    ply::ElementOut v{"vertex", 40, {ply::Column::of("x", xyz.data(), 3), ply::Column::of("y", xyz.data() + 1, 3),
                                     ply::Column::of("z", xyz.data() + 2, 3),
                                     ply::Column{"red", ply::Type::UInt8, rgb.data(), 3}}};
    std::ostringstream out;
    ply::write_ply(out, {v}, {"fuzz seed"});
    seeds.push_back(out.str());
  }
  {
    std::string be = "ply\nformat binary_big_endian 1.0\nelement vertex 3\nproperty double x\nproperty ushort s\n"
                     "element face 2\nproperty list uchar int idx\nend_header\n";
    for (int i = 0; i < 3; ++i) put_be<double>(be, i * 1.5), put_be<uint16_t>(be, uint16_t(i));
    for (int f = 0; f < 2; ++f) {
      be.push_back(char(3));
      for (int k = 0; k < 3; ++k) put_be<int32_t>(be, f + k);
    }
    seeds.push_back(be);
  }
  seeds.push_back(
      "ply\nformat ascii 1.0\ncomment c\nelement vertex 3\nproperty float x\nproperty int8 k\n"
      "element face 2\nproperty list uchar uint idx\nproperty float w\nend_header\n"
      "0.5 1\n-2e3 -7\nnan 0\n3 0 1 2 0.5\n4 0 1 2 3 -1\n");
  for (size_t i = 0; i < seeds.size(); ++i) {
    ASSERT_NO_THROW(parse(seeds[i])) << "seed " << i;
    test::FuzzOptions opt;
    opt.mutations = 2000;
    opt.seed = 100 + i;
    const auto stats = test::fuzz_parser(seeds[i], [](const std::string& bytes) {
      const ply::PlyData d = ply::read_ply_bytes(bytes, "fuzz.ply");
      // Touch every value so a bad row layout would be caught by the sanitizers too.
      for (const ply::Element& e : d.header().elements)
        for (const ply::Property& p : e.properties)
          if (p.is_list) (void)d.list(e.name, p.name);
          else (void)d.doubles(e.name, p.name);
    }, opt);
    std::printf("[ fuzz ] PLY seed %zu: %zu inputs, %zu parsed, %zu rejected, slowest %.1f ms\n", i, stats.calls,
                stats.accepted, stats.rejected, stats.slowest_seconds * 1e3);
  }
}

}  // namespace
}  // namespace sp
