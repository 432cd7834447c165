#pragma once
// Shared by the CUDA comparison tests: skip without a device, relative L2 error.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "cuda/cuda_rasterizer.h"

#define SP_REQUIRE_CUDA_DEVICE()                                                  \
  do {                                                                            \
    std::string why_;                                                             \
    if (!::sp::cuda_device_available(&why_)) GTEST_SKIP() << "no CUDA device: " << why_; \
  } while (0)

namespace sp::cudatest {

// ||a − b|| / ||b|| (0 when both vanish).
inline double relative_l2(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    const double d = double(a[i]) - double(b[i]);
    num += d * d;
    den += double(b[i]) * double(b[i]);
  }
  if (den == 0) return num == 0 ? 0.0 : std::sqrt(num);
  return std::sqrt(num / den);
}

}  // namespace sp::cudatest
