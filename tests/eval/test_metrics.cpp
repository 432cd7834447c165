// PSNR / SSIM: definitions, an independent brute-force SSIM, and a cross-check against
// scikit-image on real image pairs (tests/eval/ssim_reference.py).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

#include "engine/core/error.h"
#include "engine/core/parallel.h"
#include "engine/core/rng.h"
#include "engine/eval/metrics.h"
#include "engine/io/image_io.h"
#include "support/test_support.h"

namespace sp {
namespace {

Image random_image(int w, int h, int c, uint64_t seed) {
  Rng rng(seed);
  Image im(w, h, c);
  for (float& v : im.pixels) v = rng.uniform();
  return im;
}

// SSIM straight from the definition: 2D 11x11 window at every pixel whose window fits,
// no separability, no shared code with the engine.
double brute_force_ssim(const Image& a, const Image& b) {
  double g[11], sum = 0;
  for (int i = 0; i < 11; ++i) sum += g[i] = std::exp(-(i - 5.0) * (i - 5.0) / 4.5);
  for (double& v : g) v /= sum;
  double total = 0;
  for (int c = 0; c < a.channels; ++c) {
    double s = 0;
    for (int y = 5; y < a.height - 5; ++y)
      for (int x = 5; x < a.width - 5; ++x) {
        double mx = 0, my = 0, xx = 0, yy = 0, xy = 0;
        for (int v = -5; v <= 5; ++v)
          for (int u = -5; u <= 5; ++u) {
            const double w = g[v + 5] * g[u + 5];
            const double p = a.at(x + u, y + v, c), q = b.at(x + u, y + v, c);
            mx += w * p;
            my += w * q;
            xx += w * p * p;
            yy += w * q * q;
            xy += w * p * q;
          }
        const double C1 = 1e-4, C2 = 9e-4;
        s += (2 * mx * my + C1) * (2 * (xy - mx * my) + C2) /
             ((mx * mx + my * my + C1) * ((xx - mx * mx) + (yy - my * my) + C2));
      }
    total += s / ((a.width - 10.0) * (a.height - 10.0));
  }
  return total / a.channels;
}

TEST(Metrics, PsnrDefinitionAndMask) {
  Image a(8, 6, 3, 0.5f), b(8, 6, 3, 0.5f);
  EXPECT_EQ(psnr(a, b), std::numeric_limits<double>::infinity());
  for (float& v : b.pixels) v = 0.6f;
  EXPECT_NEAR(mse(a, b), 0.01, 1e-8);
  EXPECT_NEAR(psnr(a, b), 20.0, 1e-5);
  // Masked: a differs by 0.1 everywhere, except in the unmasked right half where it differs by 0.5.
  Image mask(8, 6, 1, 0.0f);
  for (int y = 0; y < 6; ++y)
    for (int x = 0; x < 8; ++x) {
      if (x < 4) mask.at(x, y, 0) = 1.0f;
      else
        for (int c = 0; c < 3; ++c) b.at(x, y, c) = 1.0f;
    }
  EXPECT_NEAR(psnr(a, b, &mask), 20.0, 1e-5);
  EXPECT_NEAR(mse(a, b), (0.01 + 0.25) / 2, 1e-7);
  Image none(8, 6, 1, 0.5f);  // > 0.5 is required: 0.5 itself is out
  EXPECT_THROW(psnr(a, b, &none), Error);
  EXPECT_THROW(psnr(a, Image(8, 5, 3)), Error);
  Image bad_mask(7, 6, 1, 1.0f);
  EXPECT_THROW(psnr(a, b, &bad_mask), Error);
}

TEST(Metrics, SsimBasics) {
  const Image a = random_image(40, 31, 3, 1), b = random_image(40, 31, 3, 2);
  EXPECT_NEAR(ssim(a, a), 1.0, 1e-12);
  EXPECT_DOUBLE_EQ(ssim(a, b), ssim(b, a));
  EXPECT_LT(ssim(a, b), 0.1);
  // Two constant images: only the luminance term remains.
  const Image c1(20, 20, 1, 0.2f), c2(20, 20, 1, 0.7f);
  const double p = 0.2f, q = 0.7f;
  EXPECT_NEAR(ssim(c1, c2), (2 * p * q + 1e-4) / (p * p + q * q + 1e-4), 1e-12);
  // Against the brute-force definition, several shapes including the 11x11 minimum.
  for (auto [w, h, c] : {std::tuple{40, 31, 3}, std::tuple{11, 11, 1}, std::tuple{12, 23, 2}}) {
    const Image x = random_image(w, h, c, 3), y = random_image(w, h, c, 4);
    Image z = x;  // a correlated pair, so SSIM is not near 0
    for (size_t i = 0; i < z.pixels.size(); ++i) z.pixels[i] = 0.7f * x.pixels[i] + 0.3f * y.pixels[i];
    EXPECT_NEAR(ssim(x, y), brute_force_ssim(x, y), 1e-12) << w << "x" << h;
    EXPECT_NEAR(ssim(x, z), brute_force_ssim(x, z), 1e-12) << w << "x" << h;
  }
  EXPECT_THROW(ssim(Image(10, 20, 3), Image(10, 20, 3)), Error);
  EXPECT_THROW(ssim(a, Image(40, 31, 1)), Error);
}

TEST(Metrics, SameResultAtAnyThreadCount) {
  const Image a = random_image(300, 200, 3, 5), b = random_image(300, 200, 3, 6);
  const int threads = thread_count();
  set_thread_count(1);
  const double s1 = ssim(a, b), p1 = psnr(a, b);
  set_thread_count(std::max(2, threads));
  const double s2 = ssim(a, b), p2 = psnr(a, b);
  set_thread_count(threads);
  EXPECT_EQ(s1, s2);
  EXPECT_EQ(p1, p2);
}

// ---- cross-check with scikit-image ------------------------------------------------------

const char* kPython = "/usr/bin/python3";  // Debian's python with python3-skimage (not pyenv's)

bool skimage_available() {
  const std::string cmd = std::string(kPython) + " -c 'import numpy, skimage.io, skimage.metrics' >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

// Runs the reference script; false if it failed.
bool reference(const std::string& a, const std::string& b, double& psnr_ref, double& ssim_ref) {
  const std::string cmd = std::string(kPython) + " " + SPARSPLAT_SOURCE_DIR + "/tests/eval/ssim_reference.py '" + a +
                          "' '" + b + "' 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return false;
  std::string out;
  char buf[512];
  while (std::fgets(buf, sizeof buf, pipe)) out += buf;
  const int rc = pclose(pipe);
  if (rc != 0 || std::sscanf(out.c_str(), "%lf %lf", &psnr_ref, &ssim_ref) != 2) {
    ADD_FAILURE() << "reference script failed: " << out;
    return false;
  }
  return true;
}

Image gaussian_blur(const Image& im, float sigma) {
  const int r = int(std::ceil(3 * sigma));
  std::vector<float> g(size_t(2 * r + 1));
  float sum = 0;
  for (int i = -r; i <= r; ++i) sum += g[size_t(i + r)] = std::exp(-0.5f * float(i * i) / (sigma * sigma));
  for (float& v : g) v /= sum;
  auto pass = [&](const Image& src, int dx, int dy) {
    Image out(src.width, src.height, src.channels);
    for (int y = 0; y < src.height; ++y)
      for (int x = 0; x < src.width; ++x)
        for (int c = 0; c < src.channels; ++c) {
          float s = 0;
          for (int i = -r; i <= r; ++i) {
            const int sx = std::clamp(x + i * dx, 0, src.width - 1), sy = std::clamp(y + i * dy, 0, src.height - 1);
            s += g[size_t(i + r)] * src.at(sx, sy, c);
          }
          out.at(x, y, c) = s;
        }
    return out;
  };
  return pass(pass(im, 1, 0), 0, 1);
}

TEST(Metrics, MatchesScikitImageOnRealImages) {
  SP_REQUIRE_DATASET(fern, "fern");
  if (!skimage_available()) GTEST_SKIP() << kPython << " cannot import skimage/numpy (apt install python3-skimage)";
  const std::string dir = test::temp_dir("skimage");
  struct Pair {
    std::string name, a, b;
  };
  std::vector<Pair> pairs;
  const std::string f0 = fern + "/images_8/image000.png";
  pairs.push_back({"fern consecutive views", f0, fern + "/images_8/image001.png"});
  const Image base = load_image(f0, 3);
  Rng rng(7);
  Image noisy = base, posterized = base;
  for (float& v : noisy.pixels) v = std::clamp(v + rng.normal(0.0f, 0.05f), 0.0f, 1.0f);
  for (float& v : posterized.pixels) v = std::round(v * 7.0f) / 7.0f;
  save_png(dir + "/noisy.png", noisy);
  save_png(dir + "/blurred.png", gaussian_blur(base, 1.2f));
  save_png(dir + "/posterized.png", posterized);
  pairs.push_back({"fern + noise 0.05", f0, dir + "/noisy.png"});
  pairs.push_back({"fern blurred", f0, dir + "/blurred.png"});
  pairs.push_back({"fern posterized", f0, dir + "/posterized.png"});
  if (const std::string dtu = test::dataset("dtu_scan24"); !dtu.empty()) {
    save_png(dir + "/dtu0.png", resize_image(load_image(dtu + "/images/000000.png", 3), 400, 300));
    save_png(dir + "/dtu1.png", resize_image(load_image(dtu + "/images/000001.png", 3), 400, 300));
    pairs.push_back({"dtu views 0/1 at 400x300", dir + "/dtu0.png", dir + "/dtu1.png"});
  }
  const std::string os = test::dataset("opensplat_statue"), statue = test::dataset("statue");
  if (!os.empty() && !statue.empty()) {  // OpenSplat's render against the photo it was held out from
    save_png(dir + "/gt.png", resize_image(load_image(statue + "/images/1359873828_f015f87b16_o.jpg", 3), 199, 299));
    pairs.push_back({"OpenSplat render vs photo", os + "/render_1359873828_f015f87b16_o.png", dir + "/gt.png"});
  }
  double worst_ssim = 0, worst_psnr = 0;
  for (const Pair& p : pairs) {
    double ref_psnr = 0, ref_ssim = 0;
    if (!reference(p.a, p.b, ref_psnr, ref_ssim)) continue;
    const Image a = load_image(p.a, 3), b = load_image(p.b, 3);
    const double our_psnr = psnr(a, b), our_ssim = ssim(a, b);
    std::printf("[ skimage ] %-28s PSNR %9.5f (ref %9.5f, d %.1e)  SSIM %.7f (ref %.7f, d %.1e)\n", p.name.c_str(),
                our_psnr, ref_psnr, our_psnr - ref_psnr, our_ssim, ref_ssim, our_ssim - ref_ssim);
    // Both sides see the same 8-bit values; ours are float32(k / 255), skimage's float64,
    // so only ~1e-8 relative input differences remain: 1e-6 is a wide margin.
    EXPECT_NEAR(our_ssim, ref_ssim, 1e-6) << p.name;
    EXPECT_NEAR(our_psnr, ref_psnr, 1e-4) << p.name;
    worst_ssim = std::max(worst_ssim, std::abs(our_ssim - ref_ssim));
    worst_psnr = std::max(worst_psnr, std::abs(our_psnr - ref_psnr));
  }
  std::printf("[ skimage ] worst |dSSIM| %.2e, worst |dPSNR| %.2e dB over %zu pairs\n", worst_ssim, worst_psnr,
              pairs.size());
}

}  // namespace
}  // namespace sp
