// Object-masked DTU metrics as DNGaussian / CoR-GS's metrics_dtu.py compute them: white
// outside the mask for both images, PSNR over the fully-inside pixels, SSIM over the frame.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/core/rng.h"
#include "engine/eval/metrics.h"
#include "support/test_support.h"

namespace sp {
namespace {

Image noise_image(int w, int h, uint64_t seed) {
  Rng rng(seed);
  Image im(w, h, 3);
  for (float& v : im.pixels) v = rng.uniform(0.2f, 0.8f);
  return im;
}

// A disc of radius 12 in a 48x40 frame; pixels on a ring of width 1 get m = 0.5 (the
// fractional edge of an area-downscaled mask).
Image disc_mask(int w, int h) {
  Image m(w, h, 1);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const double r = std::hypot(x - 24.0, y - 20.0);
      m.at(x, y, 0) = r < 12 ? 1.0f : r < 13 ? 0.5f : 0.0f;
    }
  return m;
}

TEST(ObjectMaskedScores, PsnrCountsOnlyFullyInsidePixelsOfTheWhiteComposite) {
  const Image gt = noise_image(48, 40, 1), mask = disc_mask(48, 40);
  Image render = gt;
  for (int y = 0; y < 40; ++y)
    for (int x = 0; x < 48; ++x)
      for (int c = 0; c < 3; ++c) render.at(x, y, c) += mask.at(x, y, 0) >= 1.0f ? 0.1f : 0.3f;
  // Inside: error 0.1 everywhere -> 20 dB exactly; the edge and outside errors do not count.
  const ObjectMaskedScores s = object_masked_scores(render, gt, mask);
  EXPECT_NEAR(s.psnr, 20.0, 1e-4);
  // SSIM of the composites: outside they are both pure white.
  const double direct = ssim(composite_outside_mask(render, mask), composite_outside_mask(gt, mask));
  EXPECT_DOUBLE_EQ(s.ssim, direct);
  EXPECT_GT(s.ssim, ssim(render, gt));  // the white background agrees perfectly
}

TEST(ObjectMaskedScores, RenderOutsideTheMaskIsIgnoredButTheEdgeCountsInSsimOnly) {
  const Image gt = noise_image(48, 40, 2), mask = disc_mask(48, 40);
  Image render = noise_image(48, 40, 3);
  const ObjectMaskedScores base = object_masked_scores(render, gt, mask);
  Image outside = render, edge = render;
  for (int y = 0; y < 40; ++y)
    for (int x = 0; x < 48; ++x)
      for (int c = 0; c < 3; ++c) {
        const float m = mask.at(x, y, 0);
        if (m == 0.0f) outside.at(x, y, c) = 0.0f;
        if (m == 0.5f) edge.at(x, y, c) = 1.0f - edge.at(x, y, c);
      }
  const ObjectMaskedScores o = object_masked_scores(outside, gt, mask);
  EXPECT_DOUBLE_EQ(o.psnr, base.psnr);
  EXPECT_DOUBLE_EQ(o.ssim, base.ssim);
  const ObjectMaskedScores e = object_masked_scores(edge, gt, mask);
  EXPECT_DOUBLE_EQ(e.psnr, base.psnr);
  EXPECT_NE(e.ssim, base.ssim);
}

TEST(ObjectMaskedScores, CompositeIsTheMaskBlendOnWhite) {
  Image im(2, 1, 3, 0.2f), m(2, 1, 1);
  m.at(0, 0, 0) = 0.25f;
  m.at(1, 0, 0) = 1.0f;
  const Image c = composite_outside_mask(im, m);
  EXPECT_FLOAT_EQ(c.at(0, 0, 1), 0.2f * 0.25f + 0.75f);
  EXPECT_FLOAT_EQ(c.at(1, 0, 2), 0.2f);
}

TEST(ObjectMaskedScores, BadInput) {
  const Image a = noise_image(20, 20, 4);
  test::expect_bad_input([&] { object_masked_scores(a, a, Image(20, 20, 1, 0.0f)); }, "selects no pixel");
  test::expect_bad_input([&] { object_masked_scores(a, a, Image(10, 20, 1, 1.0f)); }, "mask size");
}

}  // namespace
}  // namespace sp
