#include "engine/train/robust_loss.h"

#include <algorithm>
#include <cmath>

#include "engine/core/error.h"

namespace sp {

Image transient_inlier_mask(const Image& render, const Image& target, const RobustLossOptions& o) {
  if (render.width != target.width || render.height != target.height || render.channels != target.channels)
    throw_internal("transient_inlier_mask: render and target differ in shape");
  const int w = render.width, h = render.height, ch = render.channels;
  const size_t n = render.pixel_count();
  Image mask(w, h, 1, 1.0f);
  if (n == 0) return mask;
  std::vector<float> residual(n);
  for (size_t p = 0; p < n; ++p) {
    float s = 0;
    for (int c = 0; c < ch; ++c) s += std::abs(render.pixels[p * size_t(ch) + size_t(c)] - target.pixels[p * size_t(ch) + size_t(c)]);
    residual[p] = s / float(ch);
  }
  std::vector<float> sorted = residual;
  const size_t k = std::min(n - 1, size_t(std::floor(double(o.inlier_quantile) * double(n - 1))));
  std::nth_element(sorted.begin(), sorted.begin() + std::ptrdiff_t(k), sorted.end());
  const float threshold = sorted[k];
  std::vector<uint8_t> candidate(n);
  for (size_t p = 0; p < n; ++p) candidate[p] = residual[p] > threshold;
  // Smoothing: a candidate is transient only when most of its 3x3 neighbourhood is.
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const size_t p = size_t(y) * size_t(w) + size_t(x);
      if (!candidate[p]) continue;
      int count = 0, total = 0;
      for (int dy = -1; dy <= 1; ++dy)
        for (int dx = -1; dx <= 1; ++dx) {
          const int xx = x + dx, yy = y + dy;
          if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
          ++total;
          count += candidate[size_t(yy) * size_t(w) + size_t(xx)];
        }
      if (2 * count >= total) mask.pixels[p] = 0.0f;
    }
  // Patches that are mostly inliers keep all their pixels.
  const int s = std::max(1, o.patch);
  for (int py = 0; py < h; py += s)
    for (int px = 0; px < w; px += s) {
      int cand = 0, total = 0;
      for (int y = py; y < std::min(h, py + s); ++y)
        for (int x = px; x < std::min(w, px + s); ++x) {
          ++total;
          cand += candidate[size_t(y) * size_t(w) + size_t(x)];
        }
      if (double(total - cand) >= double(o.patch_inlier_share) * double(total))
        for (int y = py; y < std::min(h, py + s); ++y)
          for (int x = px; x < std::min(w, px + s); ++x) mask.pixels[size_t(y) * size_t(w) + size_t(x)] = 1.0f;
    }
  return mask;
}

}  // namespace sp
