// The compact model formats (.splat, .spz, compressed PLY; docs/export.md): round trips of
// random models within each format's stated quantization bound per attribute, renders of the
// round-tripped model against the original (PSNR), files built by hand from the public
// format descriptions (independent of our writers), the SPZ axis change checked against the
// SH basis and the rotation matrix, and bad files.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "engine/core/atomic_file.h"
#include "engine/core/rng.h"
#include "engine/eval/metrics.h"
#include "engine/io/cameras_json.h"
#include "engine/io/compressed_ply.h"
#include "engine/io/gaussian_ply.h"
#include "engine/io/model_file.h"
#include "engine/io/splat_file.h"
#include "engine/io/spz_file.h"
#include "engine/render/project.h"
#include "engine/render/rasterizer.h"
#include "engine/render/sh.h"
#include "render/render_test_scene.h"
#include "support/gzip.h"
#include "support/test_support.h"

namespace sp {

namespace test {
void set_allocation_limit(size_t bytes) __attribute__((weak));  // tests/io/alloc_limit.cpp
}

namespace {

using sp::test::gzip_bytes;

namespace fs = std::filesystem;
using test::expect_bad_input;

constexpr double kPi = 3.14159265358979323846;

// ---- the stated bounds (docs/export.md) ------------------------------------------------
// .splat: positions and scales float32; colour and opacity 8 bits (nearest); rotation 8 bits
// per component of the unit quaternion: each component within 1/256 (1/128 at +1, which
// clamps to 255), so |dq| <= 2/256 and the rotation angle 2|dq| <= 0.0156 rad = 0.90 deg.
constexpr double kSplatColour = 0.5 / 255, kSplatOpacity = 0.5 / 255, kSplatRotationDeg = 0.90;
// .spz: 2^-13 with 12 fractional bits; log-scale 1/32 on [-10, 5.94]; DC 0.5 / (0.15 * 255)
// (colour C0 times that); opacity 0.5 / 255; v3 rotation: 9-bit magnitudes, 6.9e-4 per
// component, the derived largest within 2.1e-3: angle <= 0.30 deg; SH (x 128, rounded to a
// grid of 8 codes for degree 1 and 16 above): 4/128 and 8/128 on [-1, 1].
constexpr double kSpzPosition = 1.0 / 8192, kSpzLogScale = 1.0 / 32, kSpzDc = 0.5 / (0.15 * 255),
                 kSpzOpacity = 0.5 / 255, kSpzV3RotationDeg = 0.30, kSpzSh1 = 4.0 / 128, kSpzSh23 = 8.0 / 128;
// v2 stores x, y, z in 8 bits and derives w, ill-conditioned near w = 0 (half turns): the
// grid of w = sqrt(1 - |xyz|^2) is coarse when one component is near +-1. The writer picks
// the best of the 64 nearby codes: measured 6.5 deg at worst and 0.70 on average over 200k
// random rotations (plain rounding: 12.2 and 1.12). v3 exists for this.
constexpr double kSpzV2RotationDeg = 7.0, kSpzV2MeanRotationDeg = 0.8;
// compressed PLY: per 256-Gaussian chunk, a fraction of the chunk's range: positions and
// log-scales in 11/10/11 bits (x, z: range / 4094, y: range / 2046), colour range / 510,
// opacity 0.5 / 255; rotation: 10-bit smallest three, 6.9e-4 per component (<= 0.30 deg);
// SH 8 bits on [-4, 4]: 4 / 256 (half a code).
constexpr double kCplyOpacity = 0.5 / 255, kCplyRotationDeg = 0.30, kCplySh = 4.0 / 256;

double colour(float dc) { return 0.5 + kSHC0 * double(dc); }
double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double rotation_angle_deg(const float* a, const float* b) {
  double dot = 0, na = 0, nb = 0;
  for (int k = 0; k < 4; ++k) dot += double(a[k]) * b[k], na += double(a[k]) * a[k], nb += double(b[k]) * b[k];
  return 2.0 * std::acos(std::min(1.0, std::fabs(dot) / std::sqrt(na * nb))) * 180.0 / kPi;
}

// A model with every value inside the range all three formats represent: positions in
// [-5, 5], log-scales in [-6, 1], colours in [0, 1], SH rest in [-0.9, 0.9], opacities in
// [-5, 5] (logit), random rotations (un-normalized).
GaussianModel bounded_model(size_t n, int degree, uint64_t seed) {
  Rng rng(seed);
  GaussianModel m;
  m.sh_degree = degree;
  m.resize(n);
  const size_t K = size_t(m.sh_coeffs());
  for (size_t i = 0; i < n; ++i) {
    for (size_t c = 0; c < 3; ++c) {
      m.means[i * 3 + c] = rng.uniform(-5.0f, 5.0f);
      m.log_scales[i * 3 + c] = rng.uniform(-6.0f, 1.0f);
      m.sh[i * K * 3 + c] = rng.uniform(-0.49f, 0.49f) / kSHC0;
      for (size_t k = 1; k < K; ++k) m.sh[(i * K + k) * 3 + c] = rng.uniform(-0.9f, 0.9f);
    }
    for (size_t c = 0; c < 4; ++c) m.rotations[i * 4 + c] = rng.normal(0.0f, 2.0f);
    m.opacities[i] = rng.uniform(-5.0f, 5.0f);
  }
  return m;
}

// Largest error seen per attribute, printed so the measured numbers are in the log.
struct MaxErrors {
  double position = 0, log_scale = 0, colour = 0, opacity = 0, rotation_deg = 0, sh1 = 0, sh23 = 0;
  void print(const char* what) const {
    std::printf("[%s] max error: position %.3g, log-scale %.3g, colour %.3g, opacity %.3g, rotation %.3g deg, "
                "SH1 %.3g, SH2-3 %.3g\n",
                what, position, log_scale, colour, opacity, rotation_deg, sh1, sh23);
  }
};

// Compares Gaussian `order[r]` of `a` with Gaussian r of `b` attribute by attribute.
MaxErrors compare(const GaussianModel& a, const GaussianModel& b, const std::vector<size_t>& order, int degree) {
  MaxErrors e;
  const size_t Ka = size_t(a.sh_coeffs()), Kb = size_t(b.sh_coeffs());
  for (size_t r = 0; r < b.size(); ++r) {
    const size_t i = order[r];
    for (size_t c = 0; c < 3; ++c) {
      e.position = std::max(e.position, std::fabs(double(a.means[i * 3 + c]) - b.means[r * 3 + c]));
      e.log_scale = std::max(e.log_scale, std::fabs(double(a.log_scales[i * 3 + c]) - b.log_scales[r * 3 + c]));
      e.colour = std::max(e.colour, std::fabs(colour(a.sh[i * Ka * 3 + c]) - colour(b.sh[r * Kb * 3 + c])));
      for (size_t k = 1; k < size_t(sh_coeff_count(degree)); ++k) {
        const double d = std::fabs(double(a.sh[(i * Ka + k) * 3 + c]) - b.sh[(r * Kb + k) * 3 + c]);
        (k < 4 ? e.sh1 : e.sh23) = std::max(k < 4 ? e.sh1 : e.sh23, d);
      }
    }
    e.opacity = std::max(e.opacity, std::fabs(sigmoid(a.opacities[i]) - sigmoid(b.opacities[r])));
    e.rotation_deg = std::max(e.rotation_deg, rotation_angle_deg(&a.rotations[i * 4], &b.rotations[r * 4]));
  }
  return e;
}

std::vector<size_t> identity_order(size_t n) {
  std::vector<size_t> o(n);
  for (size_t i = 0; i < n; ++i) o[i] = i;
  return o;
}

TEST(ExportFormats, SplatRoundTripWithinItsBounds) {
  const GaussianModel m = bounded_model(3000, 3, 11);
  const std::string bytes = encode_splat(m);
  ASSERT_EQ(bytes.size(), m.size() * 32);
  const GaussianModel back = decode_splat(bytes, "m.splat");
  ASSERT_EQ(back.size(), m.size());
  EXPECT_EQ(back.sh_degree, 0);
  const std::vector<size_t> order = splat_order(m);
  const MaxErrors e = compare(m, back, order, 0);
  e.print(".splat");
  EXPECT_EQ(e.position, 0.0);  // float32, unchanged
  EXPECT_LE(e.log_scale, 1e-5);
  EXPECT_LE(e.colour, kSplatColour + 1e-6);
  EXPECT_LE(e.opacity, kSplatOpacity + 1e-6);
  EXPECT_LE(e.rotation_deg, kSplatRotationDeg);
  // Sorted as convert.py sorts: decreasing volume x opacity (of the original values).
  auto key = [&](size_t i) {
    return double(m.log_scales[i * 3]) + m.log_scales[i * 3 + 1] + m.log_scales[i * 3 + 2] + std::log(sigmoid(m.opacities[i]));
  };
  for (size_t r = 1; r < back.size(); ++r) ASSERT_GE(key(order[r - 1]), key(order[r])) << r;
  for (size_t r = 0; r < back.size(); ++r) ASSERT_EQ(back.means[r * 3], m.means[order[r] * 3]) << r;
}

TEST(ExportFormats, SpzRoundTripWithinItsBounds) {
  for (int version : {3, 2})
    for (int degree : {0, 1, 3}) {
      SCOPED_TRACE("version " + std::to_string(version) + " degree " + std::to_string(degree));
      const GaussianModel m = bounded_model(3000, degree, 20 + uint64_t(degree));
      SpzHeaderInfo info;
      const GaussianModel back = decode_spz(encode_spz(m, {version}), "m.spz", &info);
      EXPECT_EQ(info.version, uint32_t(version));
      EXPECT_EQ(info.fractional_bits, 12);
      ASSERT_EQ(back.size(), m.size());
      ASSERT_EQ(back.sh_degree, degree);
      const MaxErrors e = compare(m, back, identity_order(m.size()), degree);
      e.print(version == 3 ? ".spz v3" : ".spz v2");
      EXPECT_LE(e.position, kSpzPosition + 1e-6);
      EXPECT_LE(e.log_scale, kSpzLogScale + 1e-6);
      EXPECT_LE(e.colour, kSHC0 * kSpzDc + 1e-6);
      EXPECT_LE(e.opacity, kSpzOpacity + 1e-6);
      EXPECT_LE(e.rotation_deg, version == 3 ? kSpzV3RotationDeg : kSpzV2RotationDeg);
      EXPECT_LE(e.sh1, kSpzSh1 + 1e-6);
      EXPECT_LE(e.sh23, kSpzSh23 + 1e-6);
    }
}

TEST(ExportFormats, SpzV2RotationsNearHalfTurnsStayClose) {
  // w ~ 0 is where deriving w from 8-bit x, y, z is worst; many such rotations.
  Rng rng(5);
  GaussianModel m = bounded_model(20000, 0, 6);
  for (size_t i = 0; i < m.size(); i += 2) m.rotations[i * 4] = rng.uniform(-0.02f, 0.02f);
  const GaussianModel back = decode_spz(encode_spz(m, {2}), "m.spz");
  const MaxErrors e = compare(m, back, identity_order(m.size()), 0);
  e.print(".spz v2, half turns");
  EXPECT_LE(e.rotation_deg, kSpzV2RotationDeg);
  double sum = 0;
  for (size_t i = 1; i < m.size(); i += 2) sum += rotation_angle_deg(&m.rotations[i * 4], &back.rotations[i * 4]);
  const double mean = sum / double(m.size() / 2);
  std::printf("[.spz v2] mean rotation error over 10000 random rotations: %.3f deg\n", mean);
  EXPECT_LE(mean, kSpzV2MeanRotationDeg);
}

TEST(ExportFormats, SpzKeepsLargeScenesWithFewerFractionalBits) {
  GaussianModel m = bounded_model(10, 0, 7);
  m.means[0] = 3000.0f;  // beyond 12 fractional bits' +-2048
  m.means[4] = -100000.0f;
  SpzHeaderInfo info;
  const GaussianModel back = decode_spz(encode_spz(m), "m.spz", &info);
  EXPECT_EQ(info.fractional_bits, 6);  // 100000 * 2^6 < 2^23 <= 100000 * 2^7
  EXPECT_NEAR(back.means[0], 3000.0f, 1.0 / 128);
  EXPECT_NEAR(back.means[4], -100000.0f, 1.0 / 128);
  m.means[1] = 1e7f;
  expect_bad_input([&] { encode_spz(m); }, "beyond the +-8388607");
  // Values beyond a byte's range clamp to its ends, never wrap.
  GaussianModel w = bounded_model(1, 0, 8);
  w.log_scales = {-30.0f, 12.0f, 0.0f};
  const GaussianModel wb = decode_spz(encode_spz(w), "w.spz");
  EXPECT_FLOAT_EQ(wb.log_scales[0], -10.0f);
  EXPECT_FLOAT_EQ(wb.log_scales[1], 255.0f / 16.0f - 10.0f);
}

TEST(ExportFormats, CompressedPlyRoundTripWithinItsBounds) {
  for (int degree : {0, 2, 3}) {
    SCOPED_TRACE("degree " + std::to_string(degree));
    const GaussianModel m = bounded_model(3000, degree, 30 + uint64_t(degree));  // 12 chunks, the last partial
    const GaussianModel back = decode_compressed_ply_bytes(encode_compressed_ply(m), "m.compressed.ply");
    ASSERT_EQ(back.size(), m.size());
    ASSERT_EQ(back.sh_degree, degree);
    const std::vector<size_t> order = compressed_ply_order(m);
    const MaxErrors e = compare(m, back, order, degree);
    e.print("compressed PLY");
    EXPECT_LE(e.opacity, kCplyOpacity + 1e-6);
    EXPECT_LE(e.rotation_deg, kCplyRotationDeg);
    EXPECT_LE(std::max(e.sh1, e.sh23), kCplySh + 1e-6);
    // Positions, scales and colours: within their step of their own chunk's range.
    const size_t K = size_t(m.sh_coeffs());
    double worst_ratio = 0;
    for (size_t r0 = 0; r0 < m.size(); r0 += 256) {
      const size_t r1 = std::min(m.size(), r0 + 256);
      for (size_t c = 0; c < 3; ++c) {
        auto attr = [&](int a, const GaussianModel& g, size_t i) {
          return a == 0 ? double(g.means[i * 3 + c]) : a == 1 ? double(g.log_scales[i * 3 + c]) : colour(g.sh[i * g.sh_coeffs() * 3 + c]);
        };
        for (int a = 0; a < 3; ++a) {
          double lo = INFINITY, hi = -INFINITY;
          for (size_t r = r0; r < r1; ++r) lo = std::min(lo, attr(a, m, order[r])), hi = std::max(hi, attr(a, m, order[r]));
          const double levels = a == 2 ? 255.0 : c == 1 ? 1023.0 : 2047.0;
          const double bound = (hi - lo) / (2.0 * levels) + 1e-6 * std::max(1.0, std::fabs(hi));
          for (size_t r = r0; r < r1; ++r) {
            const double err = std::fabs(attr(a, m, order[r]) - attr(a, back, r));
            worst_ratio = std::max(worst_ratio, err / bound);
            ASSERT_LE(err, bound) << "attribute " << a << " axis " << c << " row " << r;
          }
        }
      }
    }
    (void)K;
    std::printf("[compressed PLY] position/scale/colour error up to %.2f of the chunk bound\n", worst_ratio);
  }
  // All-zero SH bands are left out (an 8-bit code cannot hold 0): degree 3 with zero bands
  // 2 and 3 is written as degree 1.
  GaussianModel m = bounded_model(300, 3, 33);
  for (size_t i = 0; i < m.size(); ++i)
    for (size_t j = 4 * 3; j < 16 * 3; ++j) m.sh[i * 48 + j] = 0.0f;
  EXPECT_EQ(m.used_sh_degree(), 1);
  EXPECT_EQ(decode_compressed_ply_bytes(encode_compressed_ply(m), "m.compressed.ply").sh_degree, 1);
}

// ---- renders --------------------------------------------------------------------------------

double render_psnr(const test::TestScene& s, const GaussianModel& a, const GaussianModel& b, int degree) {
  const auto rasterizer = make_cpu_rasterizer();
  RenderOptions o = s.options;
  o.sh_degree = degree;
  return psnr(rasterizer->forward(s.camera, params_of(a), o).color, rasterizer->forward(s.camera, params_of(b), o).color);
}

TEST(ExportFormats, RenderOfRoundTrippedModelMatchesTheOriginal) {
  // 600 Gaussians of a few pixels over a 160x120 view, SH degree 3 (tests/render's scene).
  const test::TestScene s = test::random_scene(41, 600, 160, 120, 3, 0);
  const GaussianModel& m = s.model;
  const double splat = render_psnr(s, m, decode_splat(encode_splat(m), "m.splat"), 0);  // it keeps the DC colour only
  const double spz3 = render_psnr(s, m, decode_spz(encode_spz(m, {3}), "m.spz"), 3);
  const double spz2 = render_psnr(s, m, decode_spz(encode_spz(m, {2}), "m.spz"), 3);
  const double cply = render_psnr(s, m, decode_compressed_ply_bytes(encode_compressed_ply(m), "m.cply"), 3);
  std::printf("[render] PSNR vs the original: .splat %.2f dB (SH degree 0 both), .spz v3 %.2f dB, .spz v2 %.2f dB, "
              "compressed PLY %.2f dB\n", splat, spz3, spz2, cply);
  EXPECT_GE(splat, 45.0);
  EXPECT_GE(spz3, 35.0);
  EXPECT_GE(spz2, 35.0);
  EXPECT_GE(cply, 40.0);
}

// A model written by another tool (OpenSplat's statue, 27,509 Gaussians): bytes per Gaussian
// of each format and the render of the test view against the original model's.
TEST(ExportFormats, RealModelSizesAndRenders) {
  SP_REQUIRE_DATASET(dir, "opensplat_statue");
  const GaussianModel m = read_gaussian_ply(dir + "/point_cloud.ply");
  const Camera camera = read_cameras_json(dir + "/cameras.json").at(3);
  test::TestScene s;
  s.camera = camera;
  s.options.background = glm::vec3(0.0f);
  const std::string out = test::temp_dir("export-real");
  struct Row {
    const char* name;
    std::string path;
    int degree;
  };
  const Row rows[] = {{"INRIA PLY", out + "/m.ply", m.sh_degree},
                      {".splat", out + "/m.splat", 0},
                      {".spz v3", out + "/m.spz", m.sh_degree},
                      {".spz v2", out + "/m2.spz", m.sh_degree},
                      {"compressed PLY", out + "/m.compressed.ply", m.sh_degree}};
  for (const Row& row : rows) {
    write_gaussian_model(row.path, m, {row.path.ends_with("m2.spz") ? 2 : 3});
    ModelFileInfo info;
    const GaussianModel back = read_gaussian_model(row.path, &info);
    ASSERT_EQ(back.size(), m.size()) << row.name;
    const double per = double(fs::file_size(row.path)) / double(m.size());
    const double p = render_psnr(s, m, back, row.degree);
    std::printf("[statue, %zu Gaussians, SH %d] %-15s %6.1f bytes/Gaussian, render PSNR %.2f dB%s\n", m.size(),
                m.sh_degree, row.name, per, p, row.degree == 0 ? " (SH degree 0 both)" : "");
    EXPECT_GE(p, std::string(row.name) == "INRIA PLY" ? 200.0 : 35.0) << row.name;
  }
  EXPECT_EQ(fs::file_size(out + "/m.splat"), m.size() * 32);
}

// ---- the SPZ axis change -----------------------------------------------------------------

TEST(ExportFormats, SpzAxisChangeIsAHalfTurnAboutX) {
  // SH: the colour seen along direction d with our coefficients equals the colour seen
  // along F d (F = diag(1, -1, -1)) with the flipped ones, for every basis function.
  Rng rng(3);
  for (int trial = 0; trial < 50; ++trial) {
    Vec3T<double> d{rng.normal(), rng.normal(), rng.normal()};
    const double len = std::sqrt(d.x * d.x + d.y * d.y + d.z * d.z);
    d = {d.x / len, d.y / len, d.z / len};
    double Y[16], YF[16];
    sh_basis(3, d, Y);
    sh_basis(3, Vec3T<double>{d.x, -d.y, -d.z}, YF);
    for (int k = 1; k < 16; ++k) EXPECT_NEAR(YF[k], spz_sh_flip(k) * Y[k], 1e-12) << k;
  }
  // Positions and rotations: the file holds F p and F R F (read back through our decoder's
  // inverse, and directly from the inflated bytes).
  GaussianModel m = bounded_model(1, 1, 4);
  m.means = {1.5f, 2.0f, -3.0f};
  const GaussianModel back = decode_spz(encode_spz(m), "m.spz");
  EXPECT_NEAR(back.means[1], 2.0f, 1e-3);
  std::string raw(200, '\0');
  const std::string gz = encode_spz(m);
  z_stream z{};
  ASSERT_EQ(inflateInit2(&z, 16 + MAX_WBITS), Z_OK);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  z.avail_in = uInt(gz.size());
  z.next_out = reinterpret_cast<Bytef*>(raw.data());
  z.avail_out = uInt(raw.size());
  ASSERT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
  inflateEnd(&z);
  auto fixed = [&](int axis) {
    const auto* p = reinterpret_cast<const uint8_t*>(raw.data()) + 16 + axis * 3;
    int32_t v = int32_t(p[0] | p[1] << 8 | p[2] << 16);
    if (v & 0x800000) v -= 1 << 24;
    return double(v) / 4096.0;
  };
  EXPECT_DOUBLE_EQ(fixed(0), 1.5);
  EXPECT_DOUBLE_EQ(fixed(1), -2.0);  // y and z turned
  EXPECT_DOUBLE_EQ(fixed(2), 3.0);
  // The rotation the file holds (v3 code after 16 + 9 + 1 + 3 + 3 bytes) is F R F.
  uint32_t code;
  std::memcpy(&code, raw.data() + 32, 4);
  float xyzw[4];
  const int largest = int(code >> 30);
  double sum = 0;
  for (int i = 3, shift = 0; i >= 0; --i) {
    if (i == largest) continue;
    const uint32_t c = (code >> shift) & 0x3ff;
    shift += 10;
    xyzw[i] = float(0.70710678 * double(c & 0x1ff) / 511.0 * ((c & 0x200) ? -1 : 1));
    sum += double(xyzw[i]) * xyzw[i];
  }
  xyzw[largest] = float(std::sqrt(std::max(0.0, 1.0 - sum)));
  const float file_q[4] = {xyzw[3], xyzw[0], xyzw[1], xyzw[2]};
  const Mat3T<float> R = quat_to_rotation(m.rotations.data()), RF = quat_to_rotation(file_q);
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) {
      const float sign = (r == 0) == (c == 0) ? 1.0f : -1.0f;  // (F R F)_rc = F_rr R_rc F_cc
      EXPECT_NEAR(RF[c][r], sign * R[c][r], 6e-3) << r << "," << c;
    }
}

// ---- files built by hand from the public descriptions ------------------------------------

void put_u32(std::string& s, uint32_t v) {
  for (int k = 0; k < 4; ++k) s.push_back(char(v >> (8 * k)));
}
void put_f32(std::string& s, float v) {
  char b[4];
  std::memcpy(b, &v, 4);
  s.append(b, 4);
}
void put_i24(std::string& s, int32_t v) {
  for (int k = 0; k < 3; ++k) s.push_back(char((uint32_t(v) >> (8 * k)) & 0xff));
}
std::string spz_header(uint32_t version, uint32_t points, int degree, int fb = 12, int flags = 0, int reserved = 0) {
  std::string s;
  put_u32(s, 0x5053474e);
  put_u32(s, version);
  put_u32(s, points);
  s += char(degree);
  s += char(fb);
  s += char(flags);
  s += char(reserved);
  return s;
}
std::string write_bytes(const std::string& path, const std::string& bytes) {
  write_text_atomic(path, bytes);
  return path;
}
float logit(double p) { return float(std::log(p / (1 - p))); }

TEST(ExportFormats, HandBuiltSplatFileLoads) {
  std::string f;
  const float s0[6] = {1.0f, -2.0f, 3.5f, 0.5f, 0.25f, 2.0f}, s1[6] = {0.0f, 0.0f, 0.0f, 1.0f, 1.0f, 0.0f};
  for (float v : s0) put_f32(f, v);
  f += std::string("\xff\x00\x80\xc8", 4);          // r 255, g 0, b 128, a 200
  f += std::string("\xff\x80\x80\x80", 4);          // w 1 (0.992), x y z 0: identity
  for (float v : s1) put_f32(f, v);                 // a flat third axis (scale 0) is allowed
  f += std::string("\x40\x40\x40\x00", 4);          // grey 64, alpha 0
  f += std::string("\x80\xda\x80\x26", 4);          // w 0, x (218-128)/128, y 0, z (38-128)/128
  const std::string dir = test::temp_dir("hand-splat");
  ModelFileInfo info;
  const GaussianModel m = read_gaussian_model(write_bytes(dir + "/two.splat", f), &info);
  EXPECT_EQ(info.format, ModelFormat::Splat);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m.sh_degree, 0);
  EXPECT_EQ(m.means[0], 1.0f);
  EXPECT_EQ(m.means[1], -2.0f);
  EXPECT_EQ(m.means[2], 3.5f);
  EXPECT_FLOAT_EQ(m.log_scales[0], std::log(0.5f));
  EXPECT_FLOAT_EQ(m.log_scales[2], std::log(2.0f));
  EXPECT_LT(m.log_scales[5], -60.0f);  // tiny, finite
  EXPECT_NEAR(m.sh[0], (1.0 - 0.5) / kSHC0, 1e-5);
  EXPECT_NEAR(m.sh[1], (0.0 - 0.5) / kSHC0, 1e-5);
  EXPECT_NEAR(m.sh[2], (128.0 / 255 - 0.5) / kSHC0, 1e-5);
  EXPECT_NEAR(m.opacities[0], logit(200.0 / 255), 1e-5);
  EXPECT_NEAR(m.opacities[1], logit(0.5 / 255), 1e-5);  // alpha 0: half a step above 0
  const float id[4] = {1, 0, 0, 0}, q1[4] = {0, 90.0f / 128, 0, -90.0f / 128};
  EXPECT_LT(rotation_angle_deg(&m.rotations[0], id), 1e-4);
  EXPECT_LT(rotation_angle_deg(&m.rotations[4], q1), 1e-4);
  EXPECT_NEAR(m.rotations[5], std::sqrt(0.5), 1e-6);  // normalized
}

TEST(ExportFormats, HandBuiltSpzV2FileLoads) {
  // Two Gaussians in SPZ's RUB axes, SH degree 1.
  std::string raw = spz_header(2, 2, 1);
  for (int32_t v : {4096, 8192, -2048, -13312, 0, 40960}) put_i24(raw, v);  // (1, 2, -0.5), (-3.25, 0, 10)
  raw += std::string("\xff\x33", 2);                                          // alphas 255, 51
  raw += std::string("\x80\xc8\x00\xff\x7f\x40", 6);                          // colours
  raw += std::string("\xa0\x90\xb0\x00\xff\x50", 6);                          // scales: log 0 -1 1, -10 5.9375 -5
  raw += std::string("\x80\x80\x80\xff\x80\x80", 6);                          // rotations x y z
  const unsigned char sh0[9] = {192, 128, 64, 160, 96, 128, 255, 0, 136};     // 3 coefficients x RGB
  raw.append(reinterpret_cast<const char*>(sh0), 9);
  raw += std::string(9, '\x80');
  const std::string dir = test::temp_dir("hand-spz");
  ModelFileInfo info;
  const GaussianModel m = read_gaussian_model(write_bytes(dir + "/two.spz", gzip_bytes(raw)), &info);
  EXPECT_EQ(info.format, ModelFormat::Spz);
  EXPECT_EQ(info.details, "version 2, 12 fractional bits");
  ASSERT_EQ(m.size(), 2u);
  ASSERT_EQ(m.sh_degree, 1);
  // RUB -> RDF: y and z turned.
  const float means[6] = {1.0f, -2.0f, 0.5f, -3.25f, 0.0f, -10.0f};
  for (int k = 0; k < 6; ++k) EXPECT_FLOAT_EQ(m.means[size_t(k)], means[k]) << k;
  const float logs[6] = {0, -1, 1, -10, 5.9375f, -5};
  for (int k = 0; k < 6; ++k) EXPECT_FLOAT_EQ(m.log_scales[size_t(k)], logs[k]) << k;
  EXPECT_NEAR(m.opacities[0], logit(1 - 0.5 / 255), 1e-4);  // alpha 255: half a step below 1
  EXPECT_NEAR(m.opacities[1], logit(51.0 / 255), 1e-5);
  const int colours[6] = {128, 200, 0, 255, 127, 64};
  for (int g = 0; g < 2; ++g)
    for (int c = 0; c < 3; ++c)
      EXPECT_NEAR(m.sh[size_t(g * 12 + c)], (colours[g * 3 + c] / 255.0 - 0.5) / 0.15, 1e-5) << g << c;
  // Rotations: w = sqrt(1 - |xyz|^2) in RUB, then (w, x, -y, -z).
  const double e = 128 / 127.5 - 1;  // byte 128
  const float q0[4] = {float(std::sqrt(1 - 3 * e * e)), float(e), float(-e), float(-e)};
  const float q1[4] = {0.0f, 1.0f, float(-e), float(-e)};  // |xyz| > 1: w = 0
  EXPECT_LT(rotation_angle_deg(&m.rotations[0], q0), 1e-3);
  EXPECT_LT(rotation_angle_deg(&m.rotations[4], q1), 1e-3);
  // SH: (byte - 128) / 128, coefficient 1 (y) and 2 (z) change sign, 3 (x) does not.
  const float sh1[9] = {-0.5f, 0.0f, 0.5f, -0.25f, 0.25f, 0.0f, 127.0f / 128, -1.0f, 0.0625f};
  for (int j = 0; j < 9; ++j) EXPECT_FLOAT_EQ(m.sh[size_t(3 + j)], sh1[j]) << j;
  for (int j = 0; j < 9; ++j) EXPECT_FLOAT_EQ(m.sh[size_t(15 + j)], 0.0f) << j;
}

TEST(ExportFormats, HandBuiltSpzV3FileLoads) {
  // One Gaussian whose RUB quaternion (x, y, z, w) = (0.1, -0.7, 0.2, sqrt(0.46)): y is the
  // largest, negative, so the stored quaternion is negated and y dropped.
  const double w = std::sqrt(0.46);
  auto enc = [](double v) { return uint32_t((v < 0 ? 0x200 : 0) | uint32_t(std::lround(511 * std::fabs(v) / std::sqrt(0.5)))); };
  const uint32_t code = 1u << 30 | enc(-0.1) << 20 | enc(-0.2) << 10 | enc(-w);
  std::string raw = spz_header(3, 1, 0, 8);  // 8 fractional bits
  for (int32_t v : {256, -128, 64}) put_i24(raw, v);
  raw += std::string("\x80\x80\x80\x80\xa0\x90\xb0", 7);
  put_u32(raw, code);
  const std::string dir = test::temp_dir("hand-spz3");
  const GaussianModel m = read_gaussian_model(write_bytes(dir + "/one.spz", gzip_bytes(raw)));
  ASSERT_EQ(m.size(), 1u);
  EXPECT_FLOAT_EQ(m.means[0], 1.0f);
  EXPECT_FLOAT_EQ(m.means[1], 0.5f);
  EXPECT_FLOAT_EQ(m.means[2], -0.25f);
  const float q[4] = {float(w), 0.1f, 0.7f, -0.2f};  // RDF (w, x, -y, -z)
  EXPECT_LT(rotation_angle_deg(&m.rotations[0], q), kSpzV3RotationDeg);
}

TEST(ExportFormats, HandBuiltCompressedPlyLoads) {
  std::string f = "ply\nformat binary_little_endian 1.0\ncomment built by hand\nelement chunk 1\n";
  for (const char* p : {"min_x", "min_y", "min_z", "max_x", "max_y", "max_z", "min_scale_x", "min_scale_y",
                        "min_scale_z", "max_scale_x", "max_scale_y", "max_scale_z", "min_r", "min_g", "min_b", "max_r",
                        "max_g", "max_b"})
    f += std::string("property float ") + p + "\n";
  f += "element vertex 2\nproperty uint packed_position\nproperty uint packed_rotation\nproperty uint packed_scale\n"
       "property uint packed_color\nelement sh 2\n";
  for (int j = 0; j < 9; ++j) f += "property uchar f_rest_" + std::to_string(j) + "\n";
  f += "end_header\n";
  for (float v : {0.0f, -1.0f, 2.0f, 2.0f, 1.0f, 4.0f, -3.0f, -2.0f, -1.0f, 1.0f, 2.0f, 3.0f, 0.0f, 0.2f, 0.4f, 1.0f, 0.6f, 0.8f})
    put_f32(f, v);
  const uint32_t rot0 = 0u << 30 | 512u << 20 | 512u << 10 | 512u;  // w largest; x y z ~ 0
  const uint32_t rot1 = 2u << 30 | 767u << 20 | 256u << 10 | 512u;  // y largest; w, x, z stored
  for (uint32_t v : {2047u << 21 | 0u << 11 | 1023u, rot0, 0u << 21 | 1023u << 11 | 2047u, 255u << 24 | 0u << 16 | 128u << 8 | 51u,
                     1024u << 21 | 512u << 11 | 0u, rot1, 2047u << 21 | 0u << 11 | 0u, 0u << 24 | 255u << 16 | 255u << 8 | 255u})
    put_u32(f, v);
  const unsigned char sh[18] = {0, 255, 128, 1, 254, 64, 192, 127, 100, 128, 128, 128, 128, 128, 128, 128, 128, 128};
  f.append(reinterpret_cast<const char*>(sh), 18);
  const std::string dir = test::temp_dir("hand-cply");
  ModelFileInfo info;
  const GaussianModel m = read_gaussian_model(write_bytes(dir + "/two.compressed.ply", f), &info);
  EXPECT_EQ(info.format, ModelFormat::CompressedPly);
  ASSERT_EQ(m.size(), 2u);
  ASSERT_EQ(m.sh_degree, 1);
  // Gaussian 0.
  EXPECT_FLOAT_EQ(m.means[0], 2.0f);
  EXPECT_FLOAT_EQ(m.means[1], -1.0f);
  EXPECT_NEAR(m.means[2], 2.0 + 2.0 * 1023 / 2047, 1e-6);
  EXPECT_FLOAT_EQ(m.log_scales[0], -3.0f);
  EXPECT_FLOAT_EQ(m.log_scales[1], 2.0f);
  EXPECT_FLOAT_EQ(m.log_scales[2], 3.0f);
  EXPECT_NEAR(colour(m.sh[0]), 1.0, 1e-6);
  EXPECT_NEAR(colour(m.sh[1]), 0.2, 1e-6);
  EXPECT_NEAR(colour(m.sh[2]), 0.4 + 0.4 * 128 / 255, 1e-6);
  EXPECT_NEAR(m.opacities[0], logit(0.2), 1e-5);
  const float id[4] = {1, 0, 0, 0};
  EXPECT_LT(rotation_angle_deg(&m.rotations[0], id), 0.2);
  // Gaussian 1.
  EXPECT_NEAR(m.means[3], 2.0 * 1024 / 2047, 1e-6);
  EXPECT_NEAR(m.means[4], -1.0 + 2.0 * 512 / 1023, 1e-6);
  EXPECT_FLOAT_EQ(m.means[5], 2.0f);
  EXPECT_NEAR(colour(m.sh[12 + 0]), 0.0, 1e-6);  // Gaussian 1's DC: 4 coefficients x RGB on
  EXPECT_NEAR(colour(m.sh[12 + 1]), 0.6, 1e-6);
  EXPECT_NEAR(colour(m.sh[12 + 2]), 0.8, 1e-6);
  EXPECT_NEAR(m.opacities[1], logit(1 - 0.5 / 255), 1e-4);  // alpha 255: half a step below 1
  auto r10 = [](double c) { return (c / 1023 - 0.5) * std::sqrt(2.0); };
  const double qw = r10(767), qx = r10(256), qz = r10(512), qy = std::sqrt(1 - qw * qw - qx * qx - qz * qz);
  const float q1[4] = {float(qw), float(qx), float(qy), float(qz)};
  EXPECT_LT(rotation_angle_deg(&m.rotations[4], q1), 1e-3);
  // SH of Gaussian 0: f_rest_j is channel j / 3, coefficient j % 3 + 1; codes 0 and 255 are -4 and 4.
  auto shv = [](int c) { return c == 0 ? -4.0 : c == 255 ? 4.0 : ((c + 0.5) / 256 - 0.5) * 8; };
  for (int j = 0; j < 9; ++j) EXPECT_NEAR(m.sh[size_t((j % 3 + 1) * 3 + j / 3)], shv(sh[j]), 1e-6) << j;
}

// ---- bad files ------------------------------------------------------------------------------

TEST(ExportFormats, BadFilesGiveBadInput) {
  const std::string dir = test::temp_dir("export-bad");
  const GaussianModel m = bounded_model(50, 1, 9);
  const std::string spz = encode_spz(m), splat = encode_splat(m);
  // Truncated.
  expect_bad_input([&] { decode_spz(spz.substr(0, spz.size() - 10), "cut.spz"); }, "cut.spz");
  expect_bad_input([&] { decode_spz(spz.substr(0, 12), "cut.spz"); }, "truncated");
  expect_bad_input([&] { decode_splat(splat.substr(0, splat.size() - 5), "cut.splat"); }, "not a whole number of 32-byte");
  // Wrong magic: not gzip; gzip of something else; the v4 container.
  expect_bad_input([&] { decode_spz("hello world, not gzip", "x.spz"); }, "does not start with a gzip header");
  std::string other = spz_header(2, 0, 0);
  other[0] = 'X';
  expect_bad_input([&] { decode_spz(gzip_bytes(other), "x.spz"); }, "wrong magic");
  expect_bad_input([&] { decode_spz(std::string("NGSP") + std::string(60, '\0'), "v4.spz"); }, "version 4");
  // Header fields.
  expect_bad_input([&] { decode_spz(gzip_bytes(spz_header(5, 0, 0)), "x.spz"); }, "unsupported SPZ version 5");
  expect_bad_input([&] { decode_spz(gzip_bytes(spz_header(1, 0, 0)), "x.spz"); }, "version 1");
  expect_bad_input([&] { decode_spz(gzip_bytes(spz_header(3, 0, 7)), "x.spz"); }, "SH degree 7");
  expect_bad_input([&] { decode_spz(gzip_bytes(spz_header(3, 0, 0, 12, 2)), "x.spz"); }, "extensions");
  expect_bad_input([&] { decode_spz(gzip_bytes(spz_header(3, 0, 0, 12, 0, 9)), "x.spz"); }, "reserved");
  // An absurd numPoints: refused from the compressed size, before any allocation.
  const std::string absurd = gzip_bytes(spz_header(3, 4000000000u, 3) + std::string(100, '\0'));
  if (test::set_allocation_limit) test::set_allocation_limit(size_t(1) << 20);
  expect_bad_input([&] { decode_spz(absurd, "big.spz"); }, "numPoints 4000000000");
  if (test::set_allocation_limit) test::set_allocation_limit(0);
  // Plausible but wrong counts: more or fewer bytes than numPoints calls for.
  expect_bad_input([&] { decode_spz(gzip_bytes(spz_header(3, 2, 0) + std::string(2 * 20 - 1, '\x80')), "x.spz"); },
                   "truncated: 2 Gaussians need 40 bytes");
  expect_bad_input([&] { decode_spz(gzip_bytes(spz_header(3, 2, 0) + std::string(2 * 20 + 1, '\x80')), "x.spz"); },
                   "more data than");
  // Corrupt deflate data (a flipped byte in the middle fails the checksum or the stream).
  std::string flipped = spz;
  flipped[flipped.size() / 2] ^= 0x55;
  expect_bad_input([&] { decode_spz(flipped, "flip.spz"); }, "flip.spz");
  // Non-finite or negative values in a .splat.
  std::string nan_splat = splat;
  const float nan = NAN, neg = -1.0f;
  std::memcpy(nan_splat.data() + 4, &nan, 4);
  expect_bad_input([&] { decode_splat(nan_splat, "nan.splat"); }, "position of Gaussian 0 is not finite");
  std::string neg_splat = splat;
  std::memcpy(neg_splat.data() + 32 + 16, &neg, 4);
  expect_bad_input([&] { decode_splat(neg_splat, "neg.splat"); }, "scale of Gaussian 1");
  // Compressed PLY layouts that do not add up.
  std::string cply = encode_compressed_ply(bounded_model(300, 0, 3));  // 2 chunks
  const size_t at = cply.find("element chunk 2");
  ASSERT_NE(at, std::string::npos);
  std::string wrong_chunks = cply;
  wrong_chunks.replace(at, 15, "element chunk 1");
  expect_bad_input([&] { decode_compressed_ply_bytes(wrong_chunks, "c.ply"); }, "1 chunks for 300 Gaussians");
  std::string float_packed = cply;
  float_packed.replace(float_packed.find("property uint packed_color"), 26, "property int packed_color");
  expect_bad_input([&] { decode_compressed_ply_bytes(float_packed, "c.ply"); }, "packed_color is int, expected uint");
  // Unknown formats, for reading and writing.
  expect_bad_input([&] { read_gaussian_model(write_bytes(dir + "/model.xyz", "not a model")); }, "unknown Gaussian model format");
  expect_bad_input([&] { write_gaussian_model(dir + "/out.xyz", m); }, "unknown model format '.xyz'");
  EXPECT_FALSE(fs::exists(dir + "/out.xyz"));
  // Content sniffing for other names: a PLY and an .spz without their extensions.
  EXPECT_EQ(read_gaussian_model(write_bytes(dir + "/spz.bin", spz)).size(), m.size());
  write_gaussian_ply(dir + "/m.ply", m);
  fs::copy_file(dir + "/m.ply", dir + "/ply.bin");
  EXPECT_EQ(read_gaussian_model(dir + "/ply.bin").size(), m.size());
}

TEST(ExportFormats, WritesAreAtomicAndEmptyModelsRoundTrip) {
  const std::string dir = test::temp_dir("export-atomic");
  GaussianModel empty;
  empty.sh_degree = 0;
  for (const char* name : {"e.splat", "e.spz", "e.compressed.ply", "e.ply"}) {
    write_gaussian_model(dir + "/" + name, empty);
    EXPECT_EQ(read_gaussian_model(dir + "/" + name).size(), 0u) << name;
  }
  // An .spz version we do not write: refused before the file exists.
  expect_bad_input([&] { write_gaussian_model(dir + "/v4.spz", bounded_model(3, 0, 1), {4}); }, "2 or 3");
  EXPECT_FALSE(fs::exists(dir + "/v4.spz"));
  for (const auto& e : fs::directory_iterator(dir)) EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos);
}

}  // namespace
}  // namespace sp
