// Training losses: INRIA's training SSIM against its definition, exact gradients against
// central finite differences in double, the float path against the double one, speed.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <tuple>
#include <vector>

#include "engine/core/error.h"
#include "engine/core/parallel.h"
#include "engine/core/rng.h"
#include "engine/eval/metrics.h"
#include "engine/train/losses.h"
#include "support/test_support.h"

namespace sp {
namespace {

std::vector<double> random_values(size_t n, uint64_t seed) {
  Rng rng(seed);
  std::vector<double> v(n);
  for (double& x : v) x = rng.uniform();
  return v;
}

// A target correlated with `a` (so SSIM is in an interesting range, ~0.5).
std::vector<double> related(const std::vector<double>& a, uint64_t seed) {
  std::vector<double> b = random_values(a.size(), seed);
  for (size_t i = 0; i < b.size(); ++i) b[i] = 0.6 * a[i] + 0.4 * b[i];
  return b;
}

Image to_image(const std::vector<double>& v, int w, int h, int c) {
  Image im(w, h, c);
  for (size_t i = 0; i < v.size(); ++i) im.pixels[i] = float(v[i]);
  return im;
}

// INRIA's training SSIM from its definition: 2D window, zero padding outside the image
// ('same' size), mean of the map over every pixel and channel.
double brute_force_ssim_train(const std::vector<double>& a, const std::vector<double>& b, int w, int h, int nc) {
  double g[11], sum = 0;
  for (int i = 0; i < 11; ++i) sum += g[i] = std::exp(-(i - 5.0) * (i - 5.0) / 4.5);
  for (double& v : g) v /= sum;
  double total = 0;
  for (int c = 0; c < nc; ++c)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        double mx = 0, my = 0, xx = 0, yy = 0, xy = 0;
        for (int v = -5; v <= 5; ++v)
          for (int u = -5; u <= 5; ++u) {
            if (x + u < 0 || x + u >= w || y + v < 0 || y + v >= h) continue;  // zero padding
            const double wt = g[v + 5] * g[u + 5];
            const size_t i = (size_t(y + v) * w + size_t(x + u)) * nc + size_t(c);
            mx += wt * a[i];
            my += wt * b[i];
            xx += wt * a[i] * a[i];
            yy += wt * b[i] * b[i];
            xy += wt * a[i] * b[i];
          }
        total += (2 * mx * my + 1e-4) * (2 * (xy - mx * my) + 9e-4) /
                 ((mx * mx + my * my + 1e-4) * ((xx - mx * mx) + (yy - my * my) + 9e-4));
      }
  return total / (double(w) * h * nc);
}

TEST(Losses, TrainingSsimMatchesItsDefinition) {
  for (auto [w, h, c] : {std::tuple{16, 13, 3}, std::tuple{5, 4, 1}, std::tuple{40, 23, 2}}) {
    const auto a = random_values(size_t(w * h * c), 1), b = related(a, 2);
    const double ref = brute_force_ssim_train(a, b, w, h, c);
    EXPECT_NEAR(ssim_train_raw<double>(w, h, c, a.data(), b.data(), nullptr, 1.0, false), ref, 1e-13);
    EXPECT_NEAR(ssim_train(to_image(a, w, h, c), to_image(b, w, h, c)), ref, 2e-6);  // float path
  }
  // Training and evaluation SSIM differ on purpose (zero padding and border pixels).
  const auto a = random_values(40 * 30 * 3, 3), b = related(a, 4);
  const Image ia = to_image(a, 40, 30, 3), ib = to_image(b, 40, 30, 3);
  EXPECT_GT(std::abs(ssim_train(ia, ib) - ssim(ia, ib)), 1e-3);
}

TEST(Losses, IdenticalImagesGiveZeroLossAndGradient) {
  const auto a = random_values(199 * 37 * 3, 5);
  const Image x = to_image(a, 199, 37, 3);
  EXPECT_NEAR(ssim_train(x, x), 1.0, 1e-6);
  const PhotometricLoss l = photometric_loss(x, x);
  EXPECT_NEAR(l.value, 0.0, 1e-6);
  EXPECT_EQ(l.l1, 0.0);
  float worst = 0;
  for (float g : l.grad.pixels) worst = std::max(worst, std::abs(g));
  EXPECT_LT(worst, 1e-9f);  // SSIM is at its maximum: the gradient vanishes (float noise only)
}

// Central differences in double for every input value; returns max |analytic - numeric|
// and stores max |analytic| in scale.
template <class F>
double fd_error(std::vector<double> a, const std::vector<double>& analytic, F&& loss, double step, double& scale) {
  double worst = 0;
  scale = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double keep = a[i];
    a[i] = keep + step;
    const double up = loss(a);
    a[i] = keep - step;
    const double down = loss(a);
    a[i] = keep;
    worst = std::max(worst, std::abs((up - down) / (2 * step) - analytic[i]));
    scale = std::max(scale, std::abs(analytic[i]));
  }
  return worst;
}

TEST(Losses, SsimGradientMatchesFiniteDifferences) {
  const int w = 16, h = 13, c = 3;
  const auto a = random_values(size_t(w * h * c), 11), b = related(a, 12);
  std::vector<double> grad(a.size());
  ssim_train_raw<double>(w, h, c, a.data(), b.data(), grad.data(), 1.0, false);
  double scale = 0;
  const double err = fd_error(
      a, grad, [&](const std::vector<double>& x) { return ssim_train_raw<double>(w, h, c, x.data(), b.data(), nullptr, 1.0, false); },
      1e-5, scale);
  std::printf("[ fd ] D-SSIM gradient 16x13x3 (double, step 1e-5): max abs error %.2e, max |grad| %.2e (relative %.2e)\n",
              err, scale, err / scale);
  // Central differences at step 1e-5: truncation O(step² f''') ~ 1e-10 and round-off
  // ~ 1e-16 · |SSIM| / step ~ 1e-11 absolute (measured: ~2e-11, i.e. 3e-9 of the largest
  // gradient entry). The bound, 1e-7 relative, leaves a 30x margin yet catches any
  // wrong term (those show up at 1e-3 relative or worse).
  EXPECT_LT(err, 1e-7 * scale);

  // accumulate + scale: grad_out = 5 + (-0.2) * grad.
  std::vector<double> acc(a.size(), 5.0);
  ssim_train_raw<double>(w, h, c, a.data(), b.data(), acc.data(), -0.2, true);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(acc[i], 5.0 - 0.2 * grad[i], 1e-15);
}

TEST(Losses, L1GradientMatchesFiniteDifferences) {
  const int w = 16, h = 13, c = 3;
  auto a = random_values(size_t(w * h * c), 21);
  const auto b = random_values(a.size(), 22);
  for (size_t i = 0; i < a.size(); ++i)  // keep away from the kink at a == b
    if (std::abs(a[i] - b[i]) < 1e-3) a[i] = b[i] + 2e-3;
  a[7] = b[7];  // and one exactly on it: PyTorch's sign(0) = 0
  std::vector<double> grad(a.size());
  const double value = l1_loss_raw<double>(w, h, c, a.data(), b.data(), grad.data(), 1.0, false);
  double ref = 0;
  for (size_t i = 0; i < a.size(); ++i) ref += std::abs(a[i] - b[i]);
  EXPECT_NEAR(value, ref / double(a.size()), 1e-15);
  EXPECT_EQ(grad[7], 0.0);
  grad[7] = 0;
  auto smooth = a;
  smooth[7] += 1e-2;  // FD away from the kink for that entry; its analytic value is checked above
  std::vector<double> g2(a.size());
  l1_loss_raw<double>(w, h, c, smooth.data(), b.data(), g2.data(), 1.0, false);
  double scale = 0;
  const double err = fd_error(
      smooth, g2, [&](const std::vector<double>& x) { return l1_loss_raw<double>(w, h, c, x.data(), b.data(), nullptr, 1.0, false); },
      1e-4, scale);
  std::printf("[ fd ] L1 gradient 16x13x3 (double, step 1e-4): max abs error %.2e, |grad| %.2e\n", err, scale);
  EXPECT_NEAR(scale, 1.0 / double(a.size()), 1e-18);
  // L1 is linear between kinks (all > 1e-3 away), so only round-off remains:
  // ~1e-16 · |L1| / step ~ 1e-12 absolute, under 1e-9 relative.
  EXPECT_LT(err, 1e-7 * scale);
}

TEST(Losses, FloatPhotometricLossMatchesDoubleComposition) {
  const int w = 37, h = 29, c = 3;
  const float lambda = 0.2f;
  const auto a = random_values(size_t(w * h * c), 31), b = related(a, 32);
  const Image ia = to_image(a, w, h, c), ib = to_image(b, w, h, c);
  const PhotometricLoss l = photometric_loss(ia, ib, lambda);
  // The same in double, from the float-rounded inputs.
  std::vector<double> fa(a.size()), fb(b.size());
  for (size_t i = 0; i < a.size(); ++i) fa[i] = ia.pixels[i], fb[i] = ib.pixels[i];
  std::vector<double> grad(a.size());
  const double l1 = l1_loss_raw<double>(w, h, c, fa.data(), fb.data(), grad.data(), 1.0 - double(lambda), false);
  const double s = ssim_train_raw<double>(w, h, c, fa.data(), fb.data(), grad.data(), -double(lambda), true);
  EXPECT_NEAR(l.l1, l1, 1e-7);
  EXPECT_NEAR(l.ssim, s, 2e-6);
  EXPECT_NEAR(l.value, (1 - double(lambda)) * l1 + double(lambda) * (1 - s), 1e-6);
  double worst = 0, scale = 0;
  for (size_t i = 0; i < grad.size(); ++i) {
    worst = std::max(worst, std::abs(double(l.grad.pixels[i]) - grad[i]));
    scale = std::max(scale, std::abs(grad[i]));
  }
  std::printf("[ fd ] float photometric gradient vs double: max abs error %.2e, max |grad| %.2e (relative %.2e)\n", worst,
              scale, worst / scale);
  EXPECT_LT(worst, 1e-4 * scale);  // float32 round-off in the moments (E[x²] - μ²)

  // A float-path directional finite difference along a random direction, step 1e-3; no
  // pixel crosses the L1 kink (|a - b| > step there). Float loss values carry ~1e-7
  // noise, so the bound is 1e-3 relative.
  Rng rng(33);
  Image dir(w, h, c), up = ia, down = ia;
  double analytic = 0;
  const float step = 1e-3f;
  for (size_t i = 0; i < dir.pixels.size(); ++i) {
    dir.pixels[i] = std::abs(ia.pixels[i] - ib.pixels[i]) > 2 * step ? rng.uniform(-1.0f, 1.0f) : 0.0f;
    up.pixels[i] += step * dir.pixels[i];
    down.pixels[i] -= step * dir.pixels[i];
    analytic += double(l.grad.pixels[i]) * dir.pixels[i];
  }
  const double numeric = (photometric_loss(up, ib, lambda).value - photometric_loss(down, ib, lambda).value) / (2.0 * step);
  std::printf("[ fd ] float photometric directional derivative: analytic %.7e numeric %.7e\n", analytic, numeric);
  EXPECT_NEAR(numeric, analytic, 1e-3 * std::abs(analytic));
}

TEST(Losses, SameResultAtAnyThreadCount) {
  const auto a = random_values(199 * 299 * 3, 41), b = related(a, 42);
  const Image ia = to_image(a, 199, 299, 3), ib = to_image(b, 199, 299, 3);
  const int threads = thread_count();
  set_thread_count(1);
  const PhotometricLoss one = photometric_loss(ia, ib);
  set_thread_count(std::max(2, threads));
  const PhotometricLoss two = photometric_loss(ia, ib);
  set_thread_count(threads);
  EXPECT_EQ(one.value, two.value);
  EXPECT_EQ(one.grad.pixels, two.grad.pixels);
}

TEST(Losses, ShapeMismatchIsAnError) {
  EXPECT_THROW(photometric_loss(Image(4, 4, 3), Image(4, 5, 3)), Error);
  EXPECT_THROW(l1_loss(Image(4, 4, 3), Image(4, 4, 1)), Error);
  EXPECT_THROW(ssim_train(Image(), Image()), Error);
}

}  // namespace
}  // namespace sp
