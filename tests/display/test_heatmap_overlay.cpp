// The composite pass with the query heatmap (composite.frag + heatmap.glsl) on the device
// against its CPU counterpart composite_heatmap, read back from an 8-bit UNORM target as the
// viewer's swapchain stores it. Skips without a Vulkan driver.
#include <gtest/gtest.h>

#include <cmath>

#include "display/display_test_support.h"
#include "engine/core/rng.h"
#include "engine/display/heatmap_overlay.h"

namespace sp {
namespace {

Image random_target(int W, int H, Rng& rng) {
  Image t(W, H, 4);
  for (size_t p = 0; p < t.pixel_count(); ++p) {
    const float a = rng.uniform(0.0f, 1.0f);
    for (int c = 0; c < 3; ++c) t.pixels[p * 4 + c] = rng.uniform(0.0f, 1.3f) * a;  // some > 1: clamped
    t.pixels[p * 4 + 3] = a;
  }
  return t;
}

RelevanceOverlay random_relevance(int W, int H, Rng& rng) {
  RelevanceOverlay r{W, H, std::vector<float>(size_t(W) * H)};
  for (float& v : r.values) v = rng.uniform(0.0f, 1.0f);
  return r;
}

// Largest per-value difference and the share of values off by more than half a level.
std::pair<float, double> compare_8bit(const Image& device, const Image& cpu) {
  float worst = 0;
  size_t off = 0;
  for (size_t i = 0; i < cpu.pixels.size(); ++i) {
    const float d = std::abs(device.pixels[i] - std::round(cpu.pixels[i] * 255.0f) / 255.0f);
    worst = std::max(worst, d);
    off += d > 0.5f / 255.0f ? 1 : 0;
  }
  return {worst, double(off) / double(cpu.pixels.size())};
}

TEST(HeatmapOverlay, DeviceCompositeMatchesCpu) {
  SP_REQUIRE_VULKAN(dev, true);
  Rng rng(17);
  const glm::vec3 bg(0.2f, 0.5f, 0.9f);
  struct Case {
    int w, h, rw, rh;
    HeatmapParams p;
  };
  const Case cases[] = {
      {101, 67, 37, 23, {true, 0.6f, 0.4f}},   // map smaller than the image, non-integer ratio
      {64, 48, 64, 48, {true, 1.0f, 0.0f}},    // same size, everything tinted
      {50, 31, 200, 124, {true, 0.3f, 0.7f}},  // map larger than the image
      {40, 30, 8, 6, {false, 0.6f, 0.4f}},     // overlay off: plain composite
  };
  for (const Case& c : cases) {
    const Image target = random_target(c.w, c.h, rng);
    const RelevanceOverlay rel = random_relevance(c.rw, c.rh, rng);
    const Image gpu = composite_on_device(*dev, target, bg, rel, c.p);
    const Image cpu = composite_heatmap(target, bg, rel, c.p);
    const auto [worst, share] = compare_8bit(gpu, cpu);
    std::printf("[ heatmap ] %dx%d, map %dx%d, opacity %.1f, threshold %.1f, %s: max diff %.4f, off %.4f%%\n", c.w,
                c.h, c.rw, c.rh, c.p.opacity, c.p.threshold, c.p.enabled ? "on" : "off", worst, 100.0 * share);
    EXPECT_LE(worst, 1.0f / 255.0f + 1e-6f);  // rounding of values at a level's midpoint
    EXPECT_LT(share, 0.01);
    // The overlay must change the image where the map exceeds the threshold (not vacuous).
    HeatmapParams off = c.p;
    off.enabled = false;
    const Image plain = composite_heatmap(target, bg, rel, off);
    size_t tinted = 0;
    for (size_t i = 0; i < plain.pixels.size(); ++i) tinted += std::abs(plain.pixels[i] - cpu.pixels[i]) > 0.02f;
    if (c.p.enabled) EXPECT_GT(tinted, plain.pixels.size() / 10);
    else EXPECT_EQ(tinted, 0u);
  }
  EXPECT_EQ(dev->validation_messages(), 0u);
}

TEST(HeatmapOverlay, CpuBlendFollowsThresholdAndOpacity) {
  Image target(2, 1, 4);
  for (int c = 0; c < 3; ++c) target.pixels[size_t(c)] = target.pixels[size_t(4 + c)] = 0.5f;
  target.pixels[3] = target.pixels[7] = 1.0f;  // opaque grey
  const RelevanceOverlay rel{2, 1, {0.3f, 0.9f}};
  const HeatmapParams p{true, 0.5f, 0.4f};
  const Image out = composite_heatmap(target, glm::vec3(0.0f), rel, p);
  for (int c = 0; c < 3; ++c) EXPECT_FLOAT_EQ(out.pixels[size_t(c)], 0.5f);  // below the threshold: untouched
  const glm::vec3 ramp = heatmap_ramp(0.9f);
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(out.pixels[size_t(3 + c)], 0.5f + 0.45f * (ramp[c] - 0.5f), 1e-6f);
  // The ramp runs blue -> green -> red.
  EXPECT_GT(heatmap_ramp(0.0f).z, 0.9f);
  EXPECT_GT(heatmap_ramp(0.5f).y, 0.9f);
  EXPECT_GT(heatmap_ramp(1.0f).x, 0.9f);
}

}  // namespace
}  // namespace sp
