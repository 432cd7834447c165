#pragma once
// Conversions the compact splat formats share (.splat, .spz, compressed PLY; docs/export.md):
// activations with a finite inverse, rounding to n-bit codes, quaternion normalization and
// the "smallest three" quaternion code. Internal to engine/io.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

namespace sp::quant {

inline float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

// The logit of an opacity decoded from an 8-bit code. Codes 0 and 255 mean 0 and 1, whose
// logits are infinite: they are kept half a code step inside (0, 1), which is within the
// format's own rounding error, so a decoded model stays finite.
inline float logit_from_unit(float p) {
  p = std::clamp(p, 0.5f / 255.0f, 1.0f - 0.5f / 255.0f);
  return std::log(p / (1.0f - p));
}

// round(v) clamped to [0, max_code]; NaN gives 0.
inline uint32_t code_of(float v, uint32_t max_code) {
  if (!(v > 0.0f)) return 0;
  const float r = std::round(v);
  return r >= float(max_code) ? max_code : uint32_t(r);
}
inline uint8_t byte_of(float v) { return uint8_t(code_of(v, 255)); }

// t in [0, 1] to a `bits`-bit unsigned code (nearest).
inline uint32_t unorm_code(float t, int bits) {
  const uint32_t max_code = (1u << bits) - 1u;
  return code_of(t * float(max_code), max_code);
}
inline float unorm_value(uint32_t code, int bits) { return float(code) / float((1u << bits) - 1u); }

// q (w, x, y, z) scaled to unit length; the identity for a zero or non-finite quaternion.
inline std::array<float, 4> unit_quaternion(const float* q) {
  const double n2 = double(q[0]) * q[0] + double(q[1]) * q[1] + double(q[2]) * q[2] + double(q[3]) * q[3];
  if (!(n2 > 1e-30) || !std::isfinite(n2)) return {1.0f, 0.0f, 0.0f, 0.0f};
  const double inv = 1.0 / std::sqrt(n2);
  return {float(q[0] * inv), float(q[1] * inv), float(q[2] * inv), float(q[3] * inv)};
}

// Smallest-three code of a unit quaternion given as a[0..3] (component order is the
// format's): the index of the largest |a_i| in the top 2 bits, then the other three in
// increasing index order, 10 bits each, the first in bits 20..29 and the last in bits 0..9.
// The sign is chosen so the dropped component is positive (q and -q are one rotation), so
// it is recovered as sqrt(1 - sum of the others' squares). The three are at most 1/sqrt(2)
// in magnitude; `encode10(v)` and `decode10(code)` map such a v to and from 10 bits.
template <class Encode>
uint32_t pack_smallest_three(const std::array<float, 4>& a, const Encode& encode10) {
  int largest = 0;
  for (int i = 1; i < 4; ++i)
    if (std::fabs(a[size_t(i)]) > std::fabs(a[size_t(largest)])) largest = i;
  const float sign = a[size_t(largest)] < 0.0f ? -1.0f : 1.0f;
  uint32_t code = uint32_t(largest);
  for (int i = 0; i < 4; ++i)
    if (i != largest) code = (code << 10) | (encode10(sign * a[size_t(i)]) & 0x3ffu);
  return code;
}
template <class Decode>
std::array<float, 4> unpack_smallest_three(uint32_t code, const Decode& decode10) {
  std::array<float, 4> a{};
  const int largest = int(code >> 30);
  double sum = 0.0;
  int shift = 20;
  for (int i = 0; i < 4; ++i) {
    if (i == largest) continue;
    const float v = decode10((code >> shift) & 0x3ffu);
    a[size_t(i)] = v;
    sum += double(v) * v;
    shift -= 10;
  }
  a[size_t(largest)] = float(std::sqrt(std::max(0.0, 1.0 - sum)));
  return a;
}

}  // namespace sp::quant
