#include "engine/train/finite_check.h"

#include <cstdint>
#include <cstring>

namespace sp {

bool all_finite(const float* values, size_t n) {
  // Tests the exponent bits without a branch: the compiler vectorizes this loop, which it
  // does not for std::isfinite per value.
  uint32_t bad = 0;
  for (size_t i = 0; i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, values + i, 4);
    bad |= uint32_t((bits & 0x7f800000u) == 0x7f800000u);
  }
  return bad == 0;
}

const char* non_finite_group(const GaussianGradients& g) {
  if (!all_finite(g.means) || !all_finite(g.means2d)) return "means";
  if (!all_finite(g.log_scales)) return "scales";
  if (!all_finite(g.rotations)) return "rotations";
  if (!all_finite(g.opacities)) return "opacities";
  if (!all_finite(g.sh)) return "sh";
  if (!all_finite(g.extras)) return "extras";
  return nullptr;
}

const char* non_finite_group(const GaussianModel& m) {
  if (!all_finite(m.means)) return "means";
  if (!all_finite(m.log_scales)) return "scales";
  if (!all_finite(m.rotations)) return "rotations";
  if (!all_finite(m.opacities)) return "opacities";
  if (!all_finite(m.sh)) return "sh";
  if (!all_finite(m.extras)) return "extras";
  return nullptr;
}

}  // namespace sp
