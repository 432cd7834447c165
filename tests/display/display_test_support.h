#pragma once
// Shared by the display tests: a Vulkan device (validation on) or a skip, and PSNR.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>

#include "engine/core/image.h"
#include "engine/display/vulkan_device.h"

namespace sp::test {

inline std::unique_ptr<VulkanDevice> make_test_device(bool validation = true) {
  VulkanDeviceOptions o;
  o.validation = validation;
  std::string why;
  return VulkanDevice::create(o, &why);
}

// PSNR (dB) of two images of values nominally in [0, 1]; 200 for identical images.
inline double psnr(const Image& a, const Image& b) {
  EXPECT_EQ(a.pixels.size(), b.pixels.size());
  double se = 0;
  for (size_t i = 0; i < a.pixels.size() && i < b.pixels.size(); ++i) {
    const double d = double(a.pixels[i]) - double(b.pixels[i]);
    se += d * d;
  }
  const double mse = se / double(std::max<size_t>(a.pixels.size(), 1));
  return mse > 0 ? 10.0 * std::log10(1.0 / mse) : 200.0;
}

}  // namespace sp::test

// Skips the test when no Vulkan driver or device is present (`dev` is then null).
#define SP_REQUIRE_VULKAN(dev, validation)                                         \
  auto dev = ::sp::test::make_test_device(validation);                            \
  if (!dev) GTEST_SKIP() << "no Vulkan driver/device (install mesa-vulkan-drivers for lavapipe)"
