#include "engine/eval/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "engine/core/error.h"

namespace sp {

namespace {

std::string shape(const Image& im) {
  return std::to_string(im.width) + "x" + std::to_string(im.height) + "x" + std::to_string(im.channels);
}

void check_same(const char* what, const Image& a, const Image& b) {
  if (a.width != b.width || a.height != b.height || a.channels != b.channels)
    throw_bad_input(what, "image sizes differ (" + shape(a) + " vs " + shape(b) + ")");
  if (a.empty()) throw_bad_input(what, "empty image");
}


}  // namespace

constexpr int kRadius = 5;  // 11 taps: skimage's int(3.5 * 1.5 + 0.5), INRIA's window 11
constexpr int kTaps = 2 * kRadius + 1;  // = kSsimWindow

std::vector<double> ssim_gaussian_window() {
  std::vector<double> g(kTaps);
  double sum = 0;
  for (int i = 0; i < kTaps; ++i) {
    const double d = i - kRadius;
    g[size_t(i)] = std::exp(-d * d / (2 * 1.5 * 1.5));
    sum += g[size_t(i)];
  }
  for (double& v : g) v /= sum;
  return g;
}

double mse(const Image& a, const Image& b, const Image* mask) {
  check_same("mse", a, b);
  if (mask && (mask->width != a.width || mask->height != a.height || mask->channels < 1))
    throw_bad_input("mse", "mask size " + shape(*mask) + " does not match the image " + shape(a));
  const int h = a.height, w = a.width, c = a.channels;
  // Per-row sums, added in row order afterwards: the result does not depend on threads.
  std::vector<double> row_sum(size_t(h), 0.0), row_count(size_t(h), 0.0);
#pragma omp parallel for schedule(static)
  for (int y = 0; y < h; ++y) {
    double s = 0, n = 0;
    for (int x = 0; x < w; ++x) {
      if (mask && !(mask->at(x, y, 0) > 0.5f)) continue;
      const size_t base = (size_t(y) * w + x) * c;
      for (int k = 0; k < c; ++k) {
        const double d = double(a.pixels[base + k]) - double(b.pixels[base + k]);
        s += d * d;
      }
      n += c;
    }
    row_sum[size_t(y)] = s;
    row_count[size_t(y)] = n;
  }
  double s = 0, n = 0;
  for (int y = 0; y < h; ++y) {
    s += row_sum[size_t(y)];
    n += row_count[size_t(y)];
  }
  if (n == 0) throw_bad_input("mse", "the mask selects no pixel");
  return s / n;
}

double psnr(const Image& a, const Image& b, const Image* mask) {
  const double m = mse(a, b, mask);
  if (m == 0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(1.0 / m);
}

double ssim(const Image& a, const Image& b) {
  check_same("ssim", a, b);
  const int w = a.width, h = a.height, nc = a.channels;
  if (w < kTaps || h < kTaps)
    throw_bad_input("ssim", "image " + shape(a) + " is smaller than the 11x11 window");
  const std::vector<double> g = ssim_gaussian_window();
  const int vw = w - 2 * kRadius, vh = h - 2 * kRadius;  // the 'valid' region
  constexpr double C1 = 0.01 * 0.01, C2 = 0.03 * 0.03;
  constexpr int kMaps = 5;  // x, y, x², y², xy filtered together

  // Horizontal pass: every row, valid columns only -> hz[map][y][j], j < vw.
  std::vector<double> hz(size_t(kMaps) * h * vw);
  std::vector<double> channel_mean(size_t(nc), 0.0);
  std::vector<double> row_sum(static_cast<size_t>(vh));
  for (int c = 0; c < nc; ++c) {
#pragma omp parallel
    {
      std::vector<double> in(size_t(kMaps) * w);
#pragma omp for schedule(static)
      for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
          const double p = a.at(x, y, c), q = b.at(x, y, c);
          in[size_t(x)] = p;
          in[size_t(w) + x] = q;
          in[size_t(2 * w) + x] = p * p;
          in[size_t(3 * w) + x] = q * q;
          in[size_t(4 * w) + x] = p * q;
        }
        for (int m = 0; m < kMaps; ++m) {
          const double* src = in.data() + size_t(m) * w;
          double* dst = hz.data() + (size_t(m) * h + y) * vw;
          for (int j = 0; j < vw; ++j) {
            double s = 0;
            for (int k = 0; k < kTaps; ++k) s += g[size_t(k)] * src[j + k];
            dst[j] = s;
          }
        }
      }
      // Vertical pass on valid rows, then the SSIM map, summed per row.
      std::vector<double> f(size_t(kMaps) * vw);
#pragma omp for schedule(static)
      for (int i = 0; i < vh; ++i) {
        for (int m = 0; m < kMaps; ++m) {
          double* dst = f.data() + size_t(m) * vw;
          for (int j = 0; j < vw; ++j) dst[j] = 0;
          for (int k = 0; k < kTaps; ++k) {
            const double* src = hz.data() + (size_t(m) * h + i + k) * vw;
            const double gk = g[size_t(k)];
            for (int j = 0; j < vw; ++j) dst[j] += gk * src[j];
          }
        }
        double s = 0;
        for (int j = 0; j < vw; ++j) {
          const double ux = f[size_t(j)], uy = f[size_t(vw) + j];
          const double vx = f[size_t(2 * vw) + j] - ux * ux;
          const double vy = f[size_t(3 * vw) + j] - uy * uy;
          const double vxy = f[size_t(4 * vw) + j] - ux * uy;
          s += ((2 * ux * uy + C1) * (2 * vxy + C2)) / ((ux * ux + uy * uy + C1) * (vx + vy + C2));
        }
        row_sum[size_t(i)] = s;
      }
    }
    double s = 0;
    for (double v : row_sum) s += v;
    channel_mean[size_t(c)] = s / (double(vw) * vh);
  }
  double total = 0;
  for (double v : channel_mean) total += v;
  return total / nc;
}

namespace {
// [lo, hi) grown to `side` (at most n) about its centre, kept inside [0, n).
void grow(int& lo, int& hi, int side, int n) {
  side = std::min(side, n);
  if (hi - lo >= side) return;
  const int extra = side - (hi - lo);
  lo -= extra / 2;
  hi += extra - extra / 2;
  if (lo < 0) {
    hi -= lo;
    lo = 0;
  }
  if (hi > n) {
    lo -= hi - n;
    hi = n;
  }
}
}  // namespace

PixelBox mask_bounding_box(const Image& mask, int min_side) {
  PixelBox b{mask.width, mask.height, 0, 0};
  for (int y = 0; y < mask.height; ++y)
    for (int x = 0; x < mask.width; ++x)
      if (mask.at(x, y, 0) > 0.5f) {
        b.x0 = std::min(b.x0, x);
        b.y0 = std::min(b.y0, y);
        b.x1 = std::max(b.x1, x + 1);
        b.y1 = std::max(b.y1, y + 1);
      }
  if (b.empty()) return PixelBox{};
  grow(b.x0, b.x1, min_side, mask.width);
  grow(b.y0, b.y1, min_side, mask.height);
  return b;
}

Image crop(const Image& img, const PixelBox& box) {
  if (box.empty() || box.x0 < 0 || box.y0 < 0 || box.x1 > img.width || box.y1 > img.height)
    throw_internal("crop: box outside the " + shape(img) + " image");
  Image out(box.width(), box.height(), img.channels);
  for (int y = 0; y < box.height(); ++y) {
    const float* src = img.pixels.data() + (size_t(box.y0 + y) * img.width + box.x0) * img.channels;
    std::copy(src, src + size_t(box.width()) * img.channels, out.pixels.data() + size_t(y) * box.width() * img.channels);
  }
  return out;
}

Image composite_outside_mask(const Image& img, const Image& mask, float background) {
  if (mask.width != img.width || mask.height != img.height || mask.channels < 1)
    throw_bad_input("masked metrics", "mask size " + shape(mask) + " does not match the image " + shape(img));
  Image out = img;
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x) {
      const float m = std::clamp(mask.at(x, y, 0), 0.0f, 1.0f);
      for (int c = 0; c < img.channels; ++c) out.at(x, y, c) = img.at(x, y, c) * m + background * (1.0f - m);
    }
  return out;
}

namespace {
// Render and ground truth composited on white outside the object, and the pixels fully inside.
struct MaskedPair {
  Image render, gt, inside;
};
MaskedPair masked_pair(const Image& render, const Image& gt, const Image& mask) {
  check_same("masked metrics", render, gt);
  MaskedPair p{composite_outside_mask(render, mask), composite_outside_mask(gt, mask), Image(mask.width, mask.height, 1)};
  // metrics_dtu.py selects mask == 1.0 exactly; a mask resampled from 8-bit 255s is exactly 1
  // in float too, the tolerance only absorbs rounding of the area average.
  for (int y = 0; y < mask.height; ++y)
    for (int x = 0; x < mask.width; ++x) p.inside.at(x, y, 0) = mask.at(x, y, 0) >= 1.0f - 1e-5f ? 1.0f : 0.0f;
  return p;
}
}  // namespace

ObjectMaskedScores object_masked_scores(const Image& render, const Image& gt, const Image& mask) {
  const MaskedPair p = masked_pair(render, gt, mask);
  ObjectMaskedScores s;
  s.psnr = psnr(p.render, p.gt, &p.inside);
  s.ssim = ssim(p.render, p.gt);
  return s;
}

double object_masked_psnr(const Image& render, const Image& gt, const Image& mask) {
  const MaskedPair p = masked_pair(render, gt, mask);
  return psnr(p.render, p.gt, &p.inside);
}

}  // namespace sp
