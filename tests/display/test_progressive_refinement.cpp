// The viewer's CPU drawing path without a window: the progressive scale policy (frame time ->
// scale, and when to render at all) and CpuFrameRenderer against the tile rasterizer it wraps.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "bench/random_frustum_scene.h"
#include "display/display_test_support.h"
#include "engine/display/cpu_frame_renderer.h"
#include "engine/display/progressive_refinement.h"
#include "engine/render/rasterizer.h"

namespace sp {
namespace {

TEST(ProgressiveRefinement, LadderRunsFromFullToQuarterScale) {
  const auto ladder = moving_scale_ladder();
  ASSERT_GE(ladder.size(), 3u);
  EXPECT_EQ(ladder.front(), 1.0f);
  EXPECT_EQ(ladder.back(), 0.25f);
  for (size_t i = 1; i < ladder.size(); ++i) EXPECT_LT(ladder[i], ladder[i - 1]);
}

TEST(ProgressiveRefinement, FrameTimeToScale) {
  const double target = 50.0;
  // Fast enough at full resolution: stay there.
  EXPECT_EQ(next_moving_scale(1.0f, 20.0, target), 1.0f);
  // 4x too slow at full size: half the width and height is a quarter of the pixels.
  EXPECT_EQ(next_moving_scale(1.0f, 200.0, target), 0.5f);
  // 2x too slow: 3/4 scale predicts 56 ms > 50, so 1/2.
  EXPECT_EQ(next_moving_scale(1.0f, 100.0, target), 0.5f);
  EXPECT_EQ(next_moving_scale(1.0f, 80.0, target), 0.75f);  // 45 ms predicted
  // Far too slow: the smallest scale, even if that still misses the target.
  EXPECT_EQ(next_moving_scale(1.0f, 400.0, target), 0.25f);
  EXPECT_EQ(next_moving_scale(0.25f, 900.0, target), 0.25f);
  // Stepping up needs a margin: at 1/2, 40 ms predicts 90 ms at 3/4 (no); 10 ms predicts
  // 22.5 ms at 3/4 (yes) and 40 ms at full size, over 75% of the target (no).
  EXPECT_EQ(next_moving_scale(0.5f, 40.0, target), 0.5f);
  EXPECT_EQ(next_moving_scale(0.5f, 10.0, target), 0.75f);
  EXPECT_EQ(next_moving_scale(0.5f, 8.0, target), 1.0f);  // 32 ms predicted
  // A frame time right at the target keeps the scale (no flip-flop between two scales).
  EXPECT_EQ(next_moving_scale(0.5f, 50.0, target), 0.5f);
  EXPECT_EQ(next_moving_scale(0.75f, 50.0, target), 0.75f);
  // Nothing measured (or nonsense): keep the scale.
  EXPECT_EQ(next_moving_scale(0.5f, 0.0, target), 0.5f);
  EXPECT_EQ(next_moving_scale(0.5f, -3.0, target), 0.5f);
  EXPECT_EQ(next_moving_scale(0.5f, std::numeric_limits<double>::quiet_NaN(), target), 0.5f);
  EXPECT_EQ(next_moving_scale(0.5f, std::numeric_limits<double>::infinity(), target), 0.5f);
}

TEST(ProgressiveRefinement, CoarseWhileMovingFullOnceAtRestNothingWhenStill) {
  ProgressiveRefinement r(50.0, 100.0);
  auto frame = [&](bool changed, double since, double ms, bool force = false) {
    const RefinementStep s = r.next(changed, since, force);
    r.rendered(s, ms);
    return s;
  };
  // The first frame is full resolution; it took 200 ms, so moving frames go to 1/2.
  RefinementStep s = frame(true, 0, 200);
  EXPECT_TRUE(s.render);
  EXPECT_EQ(s.scale, 1.0f);
  EXPECT_EQ(r.moving_scale(), 0.5f);
  // Unchanged and full: nothing to render.
  EXPECT_FALSE(frame(false, 500, 0).render);
  // Moving: coarse frames at the adapted scale (1/2 took 50 ms: it stays).
  s = frame(true, 0, 50);
  EXPECT_TRUE(s.render);
  EXPECT_EQ(s.scale, 0.5f);
  s = frame(true, 0, 50);
  EXPECT_EQ(s.scale, 0.5f);
  // Paused for less than the rest time: the coarse frame stays.
  EXPECT_FALSE(frame(false, 40, 0).render);
  // Rested: full resolution once, then nothing.
  s = frame(false, 120, 200);
  EXPECT_TRUE(s.render);
  EXPECT_EQ(s.scale, 1.0f);
  EXPECT_FALSE(frame(false, 300, 0).render);
  EXPECT_FALSE(frame(false, 900, 0).render);
  // A screenshot of a coarse frame forces the full one at once; of a full frame, nothing.
  EXPECT_EQ(frame(true, 0, 50).scale, 0.5f);
  s = frame(false, 1, 200, true);
  EXPECT_TRUE(s.render);
  EXPECT_EQ(s.scale, 1.0f);
  EXPECT_FALSE(frame(false, 2, 0, true).render);
  // A changed view with a forced full frame (the automated last frame) renders it full.
  s = frame(true, 0, 200, true);
  EXPECT_TRUE(s.render);
  EXPECT_EQ(s.scale, 1.0f);
  // A resized window drops the picture: full resolution next, even unchanged.
  r.invalidate();
  s = frame(false, 1000, 200);
  EXPECT_TRUE(s.render);
  EXPECT_EQ(s.scale, 1.0f);
  // A faster machine (or a smaller window): the moving scale climbs back.
  frame(true, 0, 8);  // at 1/2: 32 ms predicted at full size
  EXPECT_EQ(r.moving_scale(), 1.0f);
}

TEST(ProgressiveRefinement, OffRendersEveryChangeAtFullResolution) {
  ProgressiveRefinement r(50.0, 100.0);
  r.set_enabled(false);
  for (int i = 0; i < 3; ++i) {
    const RefinementStep s = r.next(true, 0, false);
    EXPECT_TRUE(s.render);
    EXPECT_EQ(s.scale, 1.0f);
    r.rendered(s, 500);
  }
  EXPECT_FALSE(r.next(false, 1000, false).render);
}

TEST(CpuFrameRenderer, UpscaleAlignsPixelCentres) {
  // Same size: round(255 v), alpha 255, values clamped.
  const float same[6] = {0.0f, 0.5f, 1.0f, -0.2f, 1.7f, 0.25f};
  uint8_t px[8];
  upscale_to_rgba8(same, 2, 1, 2, 1, px);
  const uint8_t expected[8] = {0, 128, 255, 255, 0, 255, 64, 255};
  for (int i = 0; i < 8; ++i) EXPECT_EQ(px[i], expected[i]) << i;
  // 2 -> 4 pixels: centres at 0.25 and 0.75 of a source pixel; the ends clamp to the edge.
  const float ramp[6] = {0.0f, 0.0f, 0.0f, 1.0f, 1.0f, 1.0f};
  uint8_t wide[16];
  upscale_to_rgba8(ramp, 2, 1, 4, 1, wide);
  const uint8_t red[4] = {0, 64, 191, 255};  // source x = -0.25 (clamped), 0.25, 0.75, 1.25 (clamped)
  for (int x = 0; x < 4; ++x) {
    EXPECT_EQ(wide[x * 4], red[x]) << x;
    EXPECT_EQ(wide[x * 4 + 3], 255);
  }
  // A constant image stays constant at any size.
  std::vector<float> grey(5 * 3 * 3, 0.4f);
  std::vector<uint8_t> big(17 * 11 * 4);
  upscale_to_rgba8(grey.data(), 5, 3, 17, 11, big.data());
  for (size_t i = 0; i < big.size(); ++i) EXPECT_EQ(big[i], i % 4 == 3 ? 255 : 102) << i;
}

TEST(CpuFrameRenderer, FullScaleIsTheTileRasterizerQuantized) {
  Camera cam;
  GaussianModel model;
  bench::random_frustum_scene(3000, 160, 120, cam, model, 0.8f, 0.2f);
  CpuFrameSettings settings;
  settings.background = glm::vec3(0.1f, 0.2f, 0.3f);
  CpuFrameRenderer renderer(model);
  std::vector<uint8_t> rgba(size_t(cam.width) * cam.height * 4);
  renderer.render(cam, 1.0f, settings, rgba.data());
  RenderOptions options;
  options.sh_degree = 3;
  options.background = settings.background;
  const RenderOutput ref = make_cpu_rasterizer()->forward(cam, params_of(model), options);
  size_t differ = 0;
  for (size_t p = 0; p < ref.color.pixel_count(); ++p) {
    for (int c = 0; c < 3; ++c) {
      const int want = int(std::lround(std::clamp(ref.color.pixels[p * 3 + c], 0.0f, 1.0f) * 255.0f));
      differ += rgba[p * 4 + c] != want;
    }
    EXPECT_EQ(rgba[p * 4 + 3], 255);
  }
  EXPECT_EQ(differ, 0u);
  EXPECT_GT(renderer.last_visible(), 1000u);

  // Half scale, upscaled: the same picture, blurred (a coarse preview, not a new one).
  std::vector<uint8_t> half(rgba.size());
  renderer.render(cam, 0.5f, settings, half.data());
  Image a(cam.width, cam.height, 3), b(cam.width, cam.height, 3);
  for (size_t p = 0; p < a.pixel_count(); ++p)
    for (int c = 0; c < 3; ++c) {
      a.pixels[p * 3 + c] = rgba[p * 4 + c] / 255.0f;
      b.pixels[p * 3 + c] = half[p * 4 + c] / 255.0f;
    }
  const double p = test::psnr(a, b);
  std::printf("[ cpu frame ] 1/2 scale upscaled vs full: %.1f dB\n", p);
  EXPECT_GE(p, 18.0);
  EXPECT_LT(p, 60.0);

  // The splat-scale slider is the Vulkan path's: every scale multiplied.
  settings.splat_scale = 0.5f;
  renderer.render(cam, 1.0f, settings, half.data());
  GaussianModel smaller = model;
  for (float& s : smaller.log_scales) s += std::log(0.5f);
  const RenderOutput ref_small = make_cpu_rasterizer()->forward(cam, params_of(smaller), options);
  differ = 0;
  for (size_t q = 0; q < ref_small.color.pixel_count(); ++q)
    for (int c = 0; c < 3; ++c)
      differ += std::abs(int(half[q * 4 + c]) -
                         int(std::lround(std::clamp(ref_small.color.pixels[q * 3 + c], 0.0f, 1.0f) * 255.0f))) > 1;
  EXPECT_EQ(differ, 0u);
}

}  // namespace
}  // namespace sp
