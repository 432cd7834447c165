#include "engine/io/splat_file.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <ostream>

#include "engine/core/atomic_file.h"
#include "engine/core/error.h"
#include "engine/io/splat_quantize.h"

namespace sp {

namespace {
constexpr size_t kRecord = 32;
constexpr float kMaxLogScale = 80.0f;  // exp(80) ~ 5.5e34 < FLT_MAX; exp(-80) is still a normal float
}  // namespace

std::vector<size_t> splat_order(const GaussianModel& model) {
  const size_t n = model.size();
  // log(volume * opacity): the log domain cannot overflow where convert.py's exp could.
  std::vector<double> key(n);
  for (size_t i = 0; i < n; ++i) {
    const double o = model.opacities[i];
    const double log_sigmoid = o >= 0 ? -std::log1p(std::exp(-o)) : o - std::log1p(std::exp(o));
    key[i] = double(model.log_scales[i * 3]) + model.log_scales[i * 3 + 1] + model.log_scales[i * 3 + 2] + log_sigmoid;
  }
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return key[a] > key[b]; });
  return order;
}

std::string encode_splat(const GaussianModel& model) {
  try {
    model.validate("model");
  } catch (const Error& e) {
    throw_internal(std::string("encode_splat: ") + e.what());
  }
  const size_t n = model.size(), K = size_t(model.sh_coeffs());
  std::string out(n * kRecord, '\0');
  const std::vector<size_t> order = splat_order(model);
  for (size_t r = 0; r < n; ++r) {
    const size_t i = order[r];
    char* rec = out.data() + r * kRecord;
    float f[6];
    for (int k = 0; k < 3; ++k) {
      f[k] = model.means[i * 3 + size_t(k)];
      f[3 + k] = std::exp(std::clamp(model.log_scales[i * 3 + size_t(k)], -kMaxLogScale, kMaxLogScale));
    }
    std::memcpy(rec, f, sizeof f);
    uint8_t* b = reinterpret_cast<uint8_t*>(rec + 24);
    for (size_t c = 0; c < 3; ++c) b[c] = quant::byte_of(255.0f * (0.5f + kSHC0 * model.sh[i * K * 3 + c]));
    b[3] = quant::byte_of(255.0f * quant::sigmoid(model.opacities[i]));
    const auto q = quant::unit_quaternion(&model.rotations[i * 4]);
    for (size_t c = 0; c < 4; ++c) b[4 + c] = quant::byte_of(q[c] * 128.0f + 128.0f);
  }
  return out;
}

GaussianModel decode_splat(std::string_view bytes, const std::string& where) {
  if (bytes.size() % kRecord != 0)
    throw_bad_input(where, std::to_string(bytes.size()) + " bytes is not a whole number of 32-byte Gaussians (a truncated "
                           ".splat file? " + std::to_string(bytes.size() % kRecord) + " bytes left over)");
  const size_t n = bytes.size() / kRecord;
  GaussianModel m;
  m.sh_degree = 0;
  m.extra_channels = 0;
  m.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const char* rec = bytes.data() + i * kRecord;
    float f[6];
    std::memcpy(f, rec, sizeof f);
    for (int k = 0; k < 3; ++k) {
      if (!std::isfinite(f[k])) throw_bad_input(where, "position of Gaussian " + std::to_string(i) + " is not finite");
      const float s = f[3 + k];
      if (!(s >= 0.0f) || !std::isfinite(s))
        throw_bad_input(where, "scale of Gaussian " + std::to_string(i) + " is " + std::to_string(s) +
                                   " (expected a finite scale >= 0)");
      m.means[i * 3 + size_t(k)] = f[k];
      m.log_scales[i * 3 + size_t(k)] = std::log(std::max(s, 1e-30f));  // a flat axis: tiny, not -inf
    }
    const uint8_t* b = reinterpret_cast<const uint8_t*>(rec + 24);
    for (size_t c = 0; c < 3; ++c) m.sh[i * 3 + c] = (float(b[c]) / 255.0f - 0.5f) / kSHC0;
    m.opacities[i] = quant::logit_from_unit(float(b[3]) / 255.0f);
    float q[4];
    for (size_t c = 0; c < 4; ++c) q[c] = (float(b[4 + c]) - 128.0f) / 128.0f;
    const auto u = quant::unit_quaternion(q);
    std::copy(u.begin(), u.end(), m.rotations.begin() + long(i * 4));
  }
  m.validate(where);
  return m;
}

void write_splat(const std::string& path, const GaussianModel& model) {
  const std::string bytes = encode_splat(model);
  write_file_atomic(path, [&](std::ostream& out) { out.write(bytes.data(), std::streamsize(bytes.size())); });
}

GaussianModel read_splat(const std::string& path) { return decode_splat(read_file(path), path); }

}  // namespace sp
