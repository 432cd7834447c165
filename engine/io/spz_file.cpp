#include "engine/io/spz_file.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <ostream>
#include <vector>

#include "engine/core/atomic_file.h"
#include "engine/core/error.h"
#include "engine/core/log.h"
#include "engine/io/splat_quantize.h"

namespace sp {

namespace {

constexpr uint32_t kMagic = 0x5053474e;  // "NGSP" little-endian
constexpr size_t kHeaderBytes = 16;
constexpr float kColorScale = 0.15f;     // Niantic's DC scale: colours a bit outside [0, 1] survive
constexpr int kFractionalBits = 12;      // Niantic's choice: 1/4096 steps, coordinates within +-2048
constexpr uint32_t kNoExtensionsFlags = 0x1;  // antialiased; 0x2 (extensions) is refused
constexpr float kSqrtHalf = 0.70710678118654752f;
// Deflate never compresses better than 1032:1, so a stream of n bytes inflates to at most
// ~1032 n: a numPoints that needs more cannot be right, whatever the stream holds.
constexpr uint64_t kMaxDeflateRatio = 1032;

// Coefficients per colour channel, DC excluded, for an SPZ shDegree (0..4).
size_t spz_sh_dim(int degree) { return size_t((degree + 1) * (degree + 1) - 1); }

void put_u32(std::string& s, uint32_t v) {
  for (int k = 0; k < 4; ++k) s.push_back(char((v >> (8 * k)) & 0xff));
}
uint32_t get_u32(const uint8_t* p) { return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24; }

// v3 rotation components: sign bit 9, magnitude / sqrt(1/2) in 9 bits.
uint32_t encode_v3_component(float v) {
  const uint32_t mag = quant::code_of(511.0f * std::fabs(v) / kSqrtHalf, 511);
  return (v < 0.0f ? 0x200u : 0u) | mag;
}
float decode_v3_component(uint32_t c) {
  const float v = kSqrtHalf * float(c & 0x1ffu) / 511.0f;
  return (c & 0x200u) ? -v : v;
}

// v2 stores x, y, z and derives w = sqrt(1 - |xyz|^2), which is ill-conditioned near w = 0
// (half turns): over 200k random rotations plain rounding is off by 12.2 degrees at worst,
// 1.12 on average, 13% beyond 2 degrees. Of the byte triples within kV2Search codes of q's,
// keep the one whose decoded rotation is closest to q: 6.5 at worst, 0.70 on average, 1.5%
// beyond 2 (a wider search gains nothing: the 8-bit grid near |xyz| = 1 is the limit).
constexpr int kV2Search = 2;
std::array<uint8_t, 3> encode_v2_rotation(std::array<float, 4> q) {  // w, x, y, z (unit)
  if (q[0] < 0.0f)
    for (float& v : q) v = -v;
  int base[3];
  for (int c = 0; c < 3; ++c) base[c] = int(std::floor(q[size_t(c) + 1] * 127.5f + 127.5f));
  std::array<uint8_t, 3> best{};
  double best_dot = -1.0;
  for (int a = base[0] - kV2Search + 1; a <= base[0] + kV2Search; ++a)
    for (int b = base[1] - kV2Search + 1; b <= base[1] + kV2Search; ++b)
      for (int c = base[2] - kV2Search + 1; c <= base[2] + kV2Search; ++c) {
        if (a < 0 || a > 255 || b < 0 || b > 255 || c < 0 || c > 255) continue;
        const double v[3] = {a / 127.5 - 1.0, b / 127.5 - 1.0, c / 127.5 - 1.0};
        const double n2 = v[0] * v[0] + v[1] * v[1] + v[2] * v[2];
        const double w = std::sqrt(std::max(0.0, 1.0 - n2));
        const double dot = std::fabs(q[0] * w + q[1] * v[0] + q[2] * v[1] + q[3] * v[2]) / std::sqrt(n2 + w * w);
        if (dot > best_dot) {
          best_dot = dot;
          best = {uint8_t(a), uint8_t(b), uint8_t(c)};
        }
      }
  return best;
}

std::string gzip(const std::string& data) {
  z_stream s{};
  if (deflateInit2(&s, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw_internal("zlib deflateInit2 failed");
  std::string out;
  std::vector<unsigned char> buf(size_t(1) << 16);
  size_t fed = 0;
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    if (s.avail_in == 0 && fed < data.size()) {  // avail_in is 32-bit: feed at most 1 GiB at a time
      const size_t n = std::min(data.size() - fed, size_t(1) << 30);
      s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + fed));
      s.avail_in = uInt(n);
      fed += n;
    }
    s.next_out = buf.data();
    s.avail_out = uInt(buf.size());
    rc = deflate(&s, fed == data.size() ? Z_FINISH : Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
      deflateEnd(&s);
      throw_internal("zlib deflate failed (" + std::to_string(rc) + ")");
    }
    out.append(reinterpret_cast<const char*>(buf.data()), buf.size() - s.avail_out);
  }
  deflateEnd(&s);
  return out;
}

// Pulls inflated bytes out of a gzip stream on demand, so the header can be checked before
// the arrays are allocated.
class Inflater {
 public:
  Inflater(std::string_view in, const std::string& where) : in_(in), where_(where) {
    if (inflateInit2(&s_, 16 + MAX_WBITS) != Z_OK) throw_internal("zlib inflateInit2 failed");
  }
  ~Inflater() { inflateEnd(&s_); }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  bool ended() const { return ended_; }
  size_t produced() const { return produced_; }

  // Fills dst with up to n bytes; fewer only at the end of the stream or of the input.
  size_t read(uint8_t* dst, size_t n) {
    size_t got = 0;
    while (got < n && !ended_) {
      if (s_.avail_in == 0 && fed_ < in_.size()) {
        const size_t k = std::min(in_.size() - fed_, size_t(1) << 30);
        s_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in_.data() + fed_));
        s_.avail_in = uInt(k);
        fed_ += k;
      }
      const size_t want = std::min(n - got, size_t(1) << 30);
      s_.next_out = dst + got;
      s_.avail_out = uInt(want);
      const int rc = inflate(&s_, Z_NO_FLUSH);
      const size_t out = want - s_.avail_out;
      got += out;
      produced_ += out;
      if (rc == Z_STREAM_END) {
        ended_ = true;
      } else if (rc == Z_BUF_ERROR || (rc == Z_OK && out == 0 && s_.avail_in == 0)) {
        if (s_.avail_in == 0 && fed_ == in_.size()) break;  // input used up: truncated stream
      } else if (rc != Z_OK) {
        const std::string why = s_.msg ? std::string(s_.msg) : "code " + std::to_string(rc);
        throw_bad_input(where_, "corrupt gzip stream (zlib: " + why + ", after " + std::to_string(produced_) +
                                    " inflated bytes)");
      }
    }
    return got;
  }

 private:
  z_stream s_{};
  std::string_view in_;
  const std::string& where_;
  size_t fed_ = 0, produced_ = 0;
  bool ended_ = false;
};

}  // namespace

float spz_sh_flip(int k) {
  // (-1)^(power of y + power of z) of basis function k (engine/render/sh.h's order).
  static constexpr float flip[16] = {1, -1, -1, 1, -1, 1, 1, -1, 1, -1, 1, -1, -1, 1, -1, 1};
  return k >= 0 && k < 16 ? flip[k] : 1.0f;
}

std::string encode_spz(const GaussianModel& model, const SpzOptions& options) {
  if (options.version != 2 && options.version != 3)
    throw_bad_input("--spz-version", std::to_string(options.version) + " is not an SPZ version we write (2 or 3)");
  try {
    model.validate("model");
  } catch (const Error& e) {
    throw_internal(std::string("encode_spz: ") + e.what());
  }
  const size_t n = model.size(), K = size_t(model.sh_coeffs());
  if (n > std::numeric_limits<uint32_t>::max()) throw_bad_input("model", std::to_string(n) + " Gaussians do not fit .spz's 32-bit count");
  if (n > 10000000)
    log_warn(".spz: " + std::to_string(n) + " Gaussians; Niantic's reader refuses files above 10 million");

  // The finest fixed point (up to Niantic's 12 fractional bits) that holds every coordinate.
  float max_abs = 0.0f;
  for (float v : model.means) max_abs = std::max(max_abs, std::fabs(v));
  int fb = kFractionalBits;
  while (fb > 0 && double(max_abs) * std::ldexp(1.0, fb) > 8388607.0) --fb;
  if (double(max_abs) * std::ldexp(1.0, fb) > 8388607.0)
    throw_bad_input("model", "a coordinate of " + std::to_string(max_abs) + " is beyond the +-8388607 that .spz's 24-bit positions hold");
  if (fb < kFractionalBits)
    log_info(".spz: coordinates up to " + std::to_string(max_abs) + ": positions stored with " + std::to_string(fb) +
             " fractional bits (step " + std::to_string(std::ldexp(1.0, -fb)) + ")");

  const size_t rot_bytes = options.version >= 3 ? 4 : 3, dim = K - 1;
  std::string raw;
  raw.reserve(kHeaderBytes + n * (9 + 1 + 3 + 3 + rot_bytes + dim * 3));
  put_u32(raw, kMagic);
  put_u32(raw, uint32_t(options.version));
  put_u32(raw, uint32_t(n));
  raw.push_back(char(model.sh_degree));
  raw.push_back(char(fb));
  raw.push_back(0);  // flags: not antialiased, no extensions
  raw.push_back(0);  // reserved

  static constexpr float kFlipP[3] = {1.0f, -1.0f, -1.0f};  // RDF -> RUB
  const double fixed_scale = std::ldexp(1.0, fb);
  for (size_t i = 0; i < n; ++i)
    for (size_t c = 0; c < 3; ++c) {
      const int32_t v = int32_t(std::clamp(std::llround(double(kFlipP[c] * model.means[i * 3 + c]) * fixed_scale),
                                           -8388608LL, 8388607LL));
      for (int k = 0; k < 3; ++k) raw.push_back(char((uint32_t(v) >> (8 * k)) & 0xff));
    }
  for (size_t i = 0; i < n; ++i) raw.push_back(char(quant::byte_of(255.0f * quant::sigmoid(model.opacities[i]))));
  for (size_t i = 0; i < n; ++i)
    for (size_t c = 0; c < 3; ++c)
      raw.push_back(char(quant::byte_of(model.sh[i * K * 3 + c] * (kColorScale * 255.0f) + 127.5f)));
  for (size_t i = 0; i < n * 3; ++i) raw.push_back(char(quant::byte_of((model.log_scales[i] + 10.0f) * 16.0f)));
  for (size_t i = 0; i < n; ++i) {
    const auto q = quant::unit_quaternion(&model.rotations[i * 4]);
    const std::array<float, 4> rub = {q[0], q[1], -q[2], -q[3]};  // w, x, y, z in RUB
    if (options.version >= 3) {
      const uint32_t code = quant::pack_smallest_three({rub[1], rub[2], rub[3], rub[0]}, encode_v3_component);  // x y z w
      put_u32(raw, code);
    } else {
      for (uint8_t b : encode_v2_rotation(rub)) raw.push_back(char(b));
    }
  }
  for (size_t i = 0; i < n; ++i)
    for (size_t k = 1; k < K; ++k) {
      // Niantic's default precision: 5 bits for degree 1, 4 above (codes on a 8 or 16 grid around 128).
      const float step = k < 4 ? 8.0f : 16.0f;
      for (size_t c = 0; c < 3; ++c) {
        const float v = spz_sh_flip(int(k)) * model.sh[(i * K + k) * 3 + c];
        raw.push_back(char(quant::byte_of(128.0f + step * std::round(v * 128.0f / step))));
      }
    }
  return gzip(raw);
}

GaussianModel decode_spz(std::string_view bytes, const std::string& where, SpzHeaderInfo* info) {
  const auto* u = reinterpret_cast<const uint8_t*>(bytes.data());
  if (bytes.size() >= 4 && get_u32(u) == kMagic)
    throw_bad_input(where, "is an SPZ version 4 (NGSP container) file, which this reader does not decode; save it as "
                           "version 2 or 3");
  if (bytes.size() < 2 || u[0] != 0x1f || u[1] != 0x8b)
    throw_bad_input(where, "not an .spz file: it does not start with a gzip header (bytes 1f 8b)");

  Inflater z(bytes, where);
  uint8_t h[kHeaderBytes];
  const size_t got = z.read(h, kHeaderBytes);
  if (got < kHeaderBytes)
    throw_bad_input(where, "truncated: the gzip stream ends after " + std::to_string(got) + " of the header's 16 bytes");
  const uint32_t magic = get_u32(h), version = get_u32(h + 4), points = get_u32(h + 8);
  const int degree = h[12], fb = h[13], flags = h[14], reserved = h[15];
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%08x", magic);
  if (magic != kMagic) throw_bad_input(where, std::string("wrong magic ") + hex + " in the SPZ header (expected 0x5053474e)");
  if (version == 1)
    throw_bad_input(where, "SPZ version 1 (float16 positions, never released) is not supported (expected 2 or 3)");
  if (version != 2 && version != 3)
    throw_bad_input(where, "unsupported SPZ version " + std::to_string(version) + " (expected 2 or 3)");
  if (degree > 4) throw_bad_input(where, "SH degree " + std::to_string(degree) + " in the SPZ header (expected 0..4)");
  if (fb > 24) throw_bad_input(where, std::to_string(fb) + " fractional bits in the SPZ header (expected 0..24)");
  if (flags & 0x2)
    throw_bad_input(where, "uses SPZ extensions (header flag 0x2), which this reader does not decode");
  if (flags & ~int(kNoExtensionsFlags))
    throw_bad_input(where, "unknown SPZ header flags " + std::to_string(flags) + " (known: 0x1 antialiased)");
  if (reserved != 0) throw_bad_input(where, "reserved SPZ header byte is " + std::to_string(reserved) + " (must be 0)");

  const size_t rot_bytes = version >= 3 ? 4 : 3, dim = spz_sh_dim(degree);
  const uint64_t per_point = 9 + 1 + 3 + 3 + rot_bytes + dim * 3;
  const uint64_t payload = uint64_t(points) * per_point;
  if (kHeaderBytes + payload > uint64_t(bytes.size()) * kMaxDeflateRatio + 64)
    throw_bad_input(where, "the header's numPoints " + std::to_string(points) + " needs " +
                               std::to_string(kHeaderBytes + payload) + " inflated bytes, more than a gzip stream of " +
                               std::to_string(bytes.size()) + " bytes can hold (corrupt or truncated file)");
  std::vector<uint8_t> data(static_cast<size_t>(payload));
  const size_t have = z.read(data.data(), data.size());
  if (have < data.size())
    throw_bad_input(where, "truncated: " + std::to_string(points) + " Gaussians need " + std::to_string(payload) +
                               " bytes after the header, the stream holds " + std::to_string(have));
  uint8_t extra;
  if (z.read(&extra, 1) != 0)
    throw_bad_input(where, "more data than the header's " + std::to_string(points) + " Gaussians need");
  if (!z.ended()) throw_bad_input(where, "truncated gzip stream (no end-of-stream and checksum)");

  const size_t n = points;
  GaussianModel m;
  m.sh_degree = std::min(degree, 3);
  m.extra_channels = 0;
  m.resize(n);
  const size_t K = size_t(m.sh_coeffs());
  const uint8_t* pos = data.data();
  const uint8_t* alpha = pos + n * 9;
  const uint8_t* color = alpha + n;
  const uint8_t* scale = color + n * 3;
  const uint8_t* rot = scale + n * 3;
  const uint8_t* sh = rot + n * rot_bytes;
  static constexpr float kFlipP[3] = {1.0f, -1.0f, -1.0f};  // RUB -> RDF
  const float inv_fixed = float(std::ldexp(1.0, -fb));
  for (size_t i = 0; i < n; ++i) {
    for (size_t c = 0; c < 3; ++c) {
      const uint8_t* p = pos + (i * 3 + c) * 3;
      uint32_t v = uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16;
      if (v & 0x800000u) v |= 0xff000000u;  // sign extension
      m.means[i * 3 + c] = kFlipP[c] * float(int32_t(v)) * inv_fixed;
      m.log_scales[i * 3 + c] = float(scale[i * 3 + c]) / 16.0f - 10.0f;
      m.sh[i * K * 3 + c] = (float(color[i * 3 + c]) / 255.0f - 0.5f) / kColorScale;
    }
    m.opacities[i] = quant::logit_from_unit(float(alpha[i]) / 255.0f);
    float q[4];  // w, x, y, z in RUB
    if (version >= 3) {
      const auto a = quant::unpack_smallest_three(get_u32(rot + i * 4), decode_v3_component);  // x y z w
      q[0] = a[3], q[1] = a[0], q[2] = a[1], q[3] = a[2];
    } else {
      double n2 = 0.0;
      for (size_t c = 0; c < 3; ++c) {
        q[c + 1] = float(rot[i * 3 + c]) / 127.5f - 1.0f;
        n2 += double(q[c + 1]) * q[c + 1];
      }
      q[0] = float(std::sqrt(std::max(0.0, 1.0 - n2)));
    }
    q[2] = -q[2], q[3] = -q[3];  // RUB -> RDF
    const auto unit = quant::unit_quaternion(q);
    std::copy(unit.begin(), unit.end(), m.rotations.begin() + long(i * 4));
    for (size_t k = 1; k < K; ++k)
      for (size_t c = 0; c < 3; ++c)
        m.sh[(i * K + k) * 3 + c] = spz_sh_flip(int(k)) * (float(sh[(i * dim + k - 1) * 3 + c]) - 128.0f) / 128.0f;
  }
  if (degree > 3) log_warn(where + ": SH degree 4 is beyond this engine's 3; the degree-4 band is dropped");
  if (flags & 0x1) log_warn(where + ": trained with antialiasing (mip-splatting), which this engine does not render");
  if (info) *info = SpzHeaderInfo{version, points, degree, fb, (flags & 0x1) != 0};
  m.validate(where);
  return m;
}

void write_spz(const std::string& path, const GaussianModel& model, const SpzOptions& options) {
  const std::string bytes = encode_spz(model, options);
  write_file_atomic(path, [&](std::ostream& out) { out.write(bytes.data(), std::streamsize(bytes.size())); });
}

GaussianModel read_spz(const std::string& path, SpzHeaderInfo* info) { return decode_spz(read_file(path), path, info); }

}  // namespace sp
