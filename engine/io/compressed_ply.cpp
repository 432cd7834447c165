#include "engine/io/compressed_ply.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <sstream>

#include "engine/core/atomic_file.h"
#include "engine/core/error.h"
#include "engine/io/splat_quantize.h"

namespace sp {

namespace {

constexpr size_t kChunk = 256;
constexpr float kMaxAbsLogScale = 20.0f;  // SuperSplat clamps the chunk's scale range to +-20
constexpr float kSqrt2 = 1.41421356237309505f;

const char* const kChunkNames[18] = {"min_x",       "min_y",       "min_z",       "max_x",       "max_y",       "max_z",
                                     "min_scale_x", "min_scale_y", "min_scale_z", "max_scale_x", "max_scale_y", "max_scale_z",
                                     "min_r",       "min_g",       "min_b",       "max_r",       "max_g",       "max_b"};
const char* const kPackedNames[4] = {"packed_position", "packed_rotation", "packed_scale", "packed_color"};

uint32_t pack_11_10_11(float x, float y, float z) {
  return quant::unorm_code(x, 11) << 21 | quant::unorm_code(y, 10) << 11 | quant::unorm_code(z, 11);
}
std::array<float, 3> unpack_11_10_11(uint32_t v) {
  return {quant::unorm_value(v >> 21, 11), quant::unorm_value((v >> 11) & 0x3ffu, 10), quant::unorm_value(v & 0x7ffu, 11)};
}
float fraction(float v, float lo, float hi) { return hi > lo ? (v - lo) / (hi - lo) : 0.0f; }
float lerp(float lo, float hi, float t) { return lo * (1.0f - t) + hi * t; }

uint32_t encode_rot10(float v) { return quant::unorm_code(v / kSqrt2 + 0.5f, 10); }
float decode_rot10(uint32_t c) { return (quant::unorm_value(c, 10) - 0.5f) * kSqrt2; }

// SuperSplat's decoder maps the end codes to the ends of [-4, 4] and the others to bucket centres.
float decode_sh_byte(uint32_t c) { return c == 0 ? -4.0f : c == 255 ? 4.0f : ((float(c) + 0.5f) / 256.0f - 0.5f) * 8.0f; }
uint8_t encode_sh_byte(float v) {  // the code that decodes nearest to v
  const int c0 = int(std::clamp(std::floor((v / 8.0f + 0.5f) * 256.0f), 0.0f, 255.0f));
  int best = c0;
  for (int c = std::max(0, c0 - 1); c <= std::min(255, c0 + 1); ++c)
    if (std::fabs(decode_sh_byte(uint32_t(c)) - v) < std::fabs(decode_sh_byte(uint32_t(best)) - v)) best = c;
  return uint8_t(best);
}

uint32_t spread_bits_10(uint32_t v) {  // bit k of v to bit 3k
  v &= 0x3ffu;
  v = (v | (v << 16)) & 0x030000ffu;
  v = (v | (v << 8)) & 0x0300f00fu;
  v = (v | (v << 4)) & 0x030c30c3u;
  v = (v | (v << 2)) & 0x09249249u;
  return v;
}

void write_compressed(std::ostream& out, const GaussianModel& full) {
  try {
    full.validate("model");
  } catch (const Error& e) {
    throw_internal(std::string("write_compressed_ply: ") + e.what());
  }
  // The 8-bit SH codes have no zero (the nearest are +-1/64): bands that are all zero are
  // left out rather than written as that offset.
  GaussianModel reduced;
  const int used = full.used_sh_degree();
  if (used < full.sh_degree) {
    reduced = full;
    reduced.set_sh_degree(used);
  }
  const GaussianModel& model = used < full.sh_degree ? reduced : full;
  const size_t n = model.size(), K = size_t(model.sh_coeffs()), rest = 3 * (K - 1);
  const size_t chunks = (n + kChunk - 1) / kChunk;
  const std::vector<size_t> order = compressed_ply_order(model);
  std::vector<float> chunk(chunks * 18);
  std::vector<uint32_t> packed(n * 4);
  std::vector<uint8_t> sh(n * rest);
  for (size_t ch = 0; ch < chunks; ++ch) {
    const size_t r0 = ch * kChunk, r1 = std::min(n, r0 + kChunk);
    float* range = chunk.data() + ch * 18;
    auto colour = [&](size_t i, size_t c) { return 0.5f + kSHC0 * model.sh[i * K * 3 + c]; };
    auto log_scale = [&](size_t i, size_t c) {
      return std::clamp(model.log_scales[i * 3 + c], -kMaxAbsLogScale, kMaxAbsLogScale);
    };
    for (size_t c = 0; c < 3; ++c) {
      range[c] = range[6 + c] = range[12 + c] = INFINITY;
      range[3 + c] = range[9 + c] = range[15 + c] = -INFINITY;
    }
    for (size_t r = r0; r < r1; ++r) {
      const size_t i = order[r];
      for (size_t c = 0; c < 3; ++c) {
        const float v[3] = {model.means[i * 3 + c], log_scale(i, c), colour(i, c)};
        for (size_t a = 0; a < 3; ++a) {
          range[a * 6 + c] = std::min(range[a * 6 + c], v[a]);
          range[a * 6 + 3 + c] = std::max(range[a * 6 + 3 + c], v[a]);
        }
      }
    }
    for (size_t r = r0; r < r1; ++r) {
      const size_t i = order[r];
      float t[3][3];  // position, scale, colour fractions
      for (size_t c = 0; c < 3; ++c) {
        t[0][c] = fraction(model.means[i * 3 + c], range[c], range[3 + c]);
        t[1][c] = fraction(log_scale(i, c), range[6 + c], range[9 + c]);
        t[2][c] = fraction(colour(i, c), range[12 + c], range[15 + c]);
      }
      uint32_t* p = packed.data() + r * 4;
      p[0] = pack_11_10_11(t[0][0], t[0][1], t[0][2]);
      p[1] = quant::pack_smallest_three(quant::unit_quaternion(&model.rotations[i * 4]), encode_rot10);
      p[2] = pack_11_10_11(t[1][0], t[1][1], t[1][2]);
      p[3] = quant::unorm_code(t[2][0], 8) << 24 | quant::unorm_code(t[2][1], 8) << 16 |
             quant::unorm_code(t[2][2], 8) << 8 | quant::unorm_code(quant::sigmoid(model.opacities[i]), 8);
      for (size_t c = 0; c < 3; ++c)
        for (size_t k = 1; k < K; ++k) sh[r * rest + c * (K - 1) + k - 1] = encode_sh_byte(model.sh[(i * K + k) * 3 + c]);
    }
  }

  std::vector<ply::ElementOut> elements(rest ? 3 : 2);
  elements[0].name = "chunk";
  elements[0].count = chunks;
  for (size_t j = 0; j < 18; ++j) elements[0].columns.push_back(ply::Column::of(kChunkNames[j], chunk.data() + j, 18));
  elements[1].name = "vertex";
  elements[1].count = n;
  for (size_t j = 0; j < 4; ++j)
    elements[1].columns.push_back(ply::Column{kPackedNames[j], ply::Type::UInt32, packed.data() + j, 4 * sizeof(uint32_t)});
  if (rest) {
    elements[2].name = "sh";
    elements[2].count = n;
    for (size_t j = 0; j < rest; ++j)
      elements[2].columns.push_back(ply::Column{"f_rest_" + std::to_string(j), ply::Type::UInt8, sh.data() + j, rest});
  }
  ply::write_ply(out, elements, {"Generated by sparsplat (SuperSplat compressed PLY layout)"});
}

// The property `name` of `e`, checked to be a scalar of `type` (any scalar when type is null).
void require_property(const ply::Element& e, const std::string& name, const ply::Type* type, const std::string& where) {
  const int k = e.find(name);
  if (k < 0) throw_bad_input(where, "compressed PLY: element " + e.name + " has no property \"" + name + "\"");
  const ply::Property& p = e.properties[size_t(k)];
  if (p.is_list) throw_bad_input(where, "compressed PLY: property " + e.name + "." + name + " is a list, expected a scalar");
  if (type && p.type != *type)
    throw_bad_input(where, "compressed PLY: property " + e.name + "." + name + " is " + ply::type_name(p.type) +
                               ", expected " + ply::type_name(*type));
}

}  // namespace

std::vector<size_t> compressed_ply_order(const GaussianModel& model) {
  const size_t n = model.size();
  float lo[3] = {INFINITY, INFINITY, INFINITY}, hi[3] = {-INFINITY, -INFINITY, -INFINITY};
  for (size_t i = 0; i < n; ++i)
    for (size_t c = 0; c < 3; ++c) {
      lo[c] = std::min(lo[c], model.means[i * 3 + c]);
      hi[c] = std::max(hi[c], model.means[i * 3 + c]);
    }
  std::vector<uint32_t> code(n);
  for (size_t i = 0; i < n; ++i) {
    uint32_t m = 0;
    for (size_t c = 0; c < 3; ++c)
      m |= spread_bits_10(quant::unorm_code(fraction(model.means[i * 3 + c], lo[c], hi[c]), 10)) << (2 - c);
    code[i] = m;
  }
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return code[a] < code[b]; });
  return order;
}

bool is_compressed_ply(const ply::Header& header) {
  const int c = header.find("chunk"), v = header.find("vertex");
  return c >= 0 && v >= 0 && header.elements[size_t(v)].find("packed_position") >= 0;
}

std::string encode_compressed_ply(const GaussianModel& model) {
  std::ostringstream out;
  write_compressed(out, model);
  return out.str();
}

void write_compressed_ply(const std::string& path, const GaussianModel& model) {
  write_file_atomic(path, [&](std::ostream& out) { write_compressed(out, model); });
}

GaussianModel decode_compressed_ply(const ply::PlyData& data, const std::string& where) {
  const ply::Element* chunk = data.element("chunk");
  const ply::Element* vertex = data.element("vertex");
  if (!chunk || !vertex) throw_bad_input(where, "compressed PLY: needs elements \"chunk\" and \"vertex\"");
  for (size_t j = 0; j < 12; ++j) require_property(*chunk, kChunkNames[j], nullptr, where);
  int colour_props = 0;
  for (size_t j = 12; j < 18; ++j) colour_props += chunk->find(kChunkNames[j]) >= 0;
  if (colour_props != 0 && colour_props != 6)
    throw_bad_input(where, "compressed PLY: element chunk has " + std::to_string(colour_props) +
                               " of the 6 colour range properties min_r..max_b (expected all or none)");
  const bool chunk_colours = colour_props == 6;
  if (chunk_colours)
    for (size_t j = 12; j < 18; ++j) require_property(*chunk, kChunkNames[j], nullptr, where);
  const ply::Type u32 = ply::Type::UInt32, u8 = ply::Type::UInt8;
  for (const char* name : kPackedNames) require_property(*vertex, name, &u32, where);
  const size_t n = vertex->count;
  if (chunk->count != (n + kChunk - 1) / kChunk)
    throw_bad_input(where, "compressed PLY: " + std::to_string(chunk->count) + " chunks for " + std::to_string(n) +
                               " Gaussians (expected " + std::to_string((n + kChunk - 1) / kChunk) + ", one per 256)");
  const ply::Element* sh_element = data.element("sh");
  size_t rest = 0;
  if (sh_element) {
    rest = sh_element->properties.size();
    if (rest != 9 && rest != 24 && rest != 45)
      throw_bad_input(where, "compressed PLY: element sh has " + std::to_string(rest) +
                                 " properties (expected 9, 24 or 45: SH degree 1..3)");
    for (size_t j = 0; j < rest; ++j) require_property(*sh_element, "f_rest_" + std::to_string(j), &u8, where);
    if (sh_element->count != n)
      throw_bad_input(where, "compressed PLY: element sh has " + std::to_string(sh_element->count) + " rows for " +
                                 std::to_string(n) + " Gaussians");
  }

  GaussianModel m;
  m.sh_degree = rest == 0 ? 0 : rest == 9 ? 1 : rest == 24 ? 2 : 3;
  m.extra_channels = 0;
  m.resize(n);
  const size_t K = size_t(m.sh_coeffs());
  std::vector<std::vector<float>> range(18);
  for (size_t j = 0; j < (chunk_colours ? 18u : 12u); ++j) range[j] = data.floats("chunk", kChunkNames[j]);
  std::vector<std::vector<double>> packed(4);
  for (size_t j = 0; j < 4; ++j) packed[j] = data.doubles("vertex", kPackedNames[j]);
  for (size_t i = 0; i < n; ++i) {
    const size_t ch = i / kChunk;
    const auto p = unpack_11_10_11(uint32_t(packed[0][i]));
    const auto s = unpack_11_10_11(uint32_t(packed[2][i]));
    const uint32_t colour = uint32_t(packed[3][i]);
    for (size_t c = 0; c < 3; ++c) {
      m.means[i * 3 + c] = lerp(range[c][ch], range[3 + c][ch], p[c]);
      m.log_scales[i * 3 + c] = lerp(range[6 + c][ch], range[9 + c][ch], s[c]);
      const float t = quant::unorm_value((colour >> (24 - 8 * c)) & 0xffu, 8);
      const float rgb = chunk_colours ? lerp(range[12 + c][ch], range[15 + c][ch], t) : t;
      m.sh[i * K * 3 + c] = (rgb - 0.5f) / kSHC0;
    }
    m.opacities[i] = quant::logit_from_unit(quant::unorm_value(colour & 0xffu, 8));
    const auto q = quant::unpack_smallest_three(uint32_t(packed[1][i]), decode_rot10);
    const auto u = quant::unit_quaternion(q.data());
    std::copy(u.begin(), u.end(), m.rotations.begin() + long(i * 4));
  }
  for (size_t j = 0; j < rest; ++j) {  // f_rest_j is channel j / (K - 1), coefficient j % (K - 1) + 1
    const std::vector<float> v = data.floats("sh", "f_rest_" + std::to_string(j));
    const size_t c = j / (K - 1), k = j % (K - 1) + 1;
    for (size_t i = 0; i < n; ++i) m.sh[(i * K + k) * 3 + c] = decode_sh_byte(uint32_t(v[i]));
  }
  m.validate(where);
  return m;
}

GaussianModel decode_compressed_ply_bytes(std::string bytes, const std::string& where) {
  ply::ReadOptions options;
  options.read_lists = false;
  return decode_compressed_ply(ply::read_ply_bytes(std::move(bytes), where, options), where);
}

}  // namespace sp
