// DDIM/SDEdit sampler against an oracle denoiser (one that knows the clean image): the
// sampler's arithmetic must return the clean image exactly, whatever the start noise.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/prior/sampler.h"
#include "engine/prior/schedule.h"
#include "support/test_support.h"

namespace sp::prior {
namespace {

Image pattern(int w, int h, float phase) {
  Image im(w, h, 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) im.at(x, y, c) = 0.5f + 0.4f * std::sin(0.3f * x + 0.2f * y + phase + c);
  return im;
}

// Predicts the true clean image (signal space) whatever it is given.
class OracleDenoiser : public Denoiser {
 public:
  explicit OracleDenoiser(const Image& clean) : clean_(clean) {
    for (float& v : clean_.pixels) v = 2 * v - 1;
  }
  std::string name() const override { return "oracle"; }
  Image predict_clean(const Image&, float ab, const Image* reference) override {
    last_alpha_bar = ab;
    saw_reference = reference != nullptr;
    ++calls;
    return clean_;
  }
  Image clean_;
  float last_alpha_bar = -1;
  bool saw_reference = false;
  int calls = 0;
};

float max_diff(const Image& a, const Image& b) {
  float m = 0;
  for (size_t i = 0; i < a.pixels.size(); ++i) m = std::max(m, std::abs(a.pixels[i] - b.pixels[i]));
  return m;
}

TEST(Schedule, CosineEndsAndMonotone) {
  EXPECT_FLOAT_EQ(alpha_bar(0.0f), 1.0f);
  EXPECT_LT(alpha_bar(1.0f), 1e-3f);
  for (float t = 0.0f; t < 1.0f; t += 0.05f) EXPECT_GT(alpha_bar(t), alpha_bar(t + 0.05f));
}

TEST(Sampler, ZeroNoiseFromCleanImageReturnsIt) {
  const Image clean = pattern(24, 16, 0.0f);
  OracleDenoiser oracle(clean);
  for (float strength : {0.2f, 0.5f, 0.9f}) {
    SamplerOptions o;
    o.strength = strength;
    o.steps = 8;
    o.zero_noise = true;
    SamplerStats st;
    const Image out = refine_image(oracle, clean, nullptr, o, &st);
    EXPECT_LE(max_diff(out, clean), 1e-5f) << strength;
    EXPECT_EQ(st.network_calls, 8);
  }
}

TEST(Sampler, NoisyStartConvergesToTheOraclesImage) {
  const Image clean = pattern(24, 16, 0.0f), start = pattern(24, 16, 1.3f);
  OracleDenoiser oracle(clean);
  SamplerOptions o;
  o.strength = 0.7f;
  o.steps = 5;
  o.seed = 9;
  const Image out = refine_image(oracle, start, &clean, o);
  EXPECT_LE(max_diff(out, clean), 1e-5f);
  EXPECT_TRUE(oracle.saw_reference);
  // The first call sees the start noise level.
  o.one_step = true;
  OracleDenoiser one(clean);
  (void)refine_image(one, start, nullptr, o);
  EXPECT_EQ(one.calls, 1);
  EXPECT_FLOAT_EQ(one.last_alpha_bar, alpha_bar(0.7f));
}

TEST(Sampler, StrengthZeroIsTheIdentity) {
  const Image im = pattern(10, 6, 0.4f);
  OracleDenoiser oracle(pattern(10, 6, 2.0f));
  SamplerOptions o;
  o.strength = 0.0f;
  const Image out = refine_image(oracle, im, nullptr, o);
  EXPECT_EQ(out.pixels, im.pixels);
  EXPECT_EQ(oracle.calls, 0);
}

TEST(Sampler, CacheSkipsNetworkCallsWhenInputBarelyMoves) {
  const Image clean = pattern(24, 16, 0.0f);
  OracleDenoiser oracle(clean);
  SamplerOptions o;
  o.strength = 0.3f;
  o.steps = 20;
  o.zero_noise = true;
  o.cache_threshold = 0.5f;  // generous: most steps move the input by a few percent
  SamplerStats st;
  const Image out = refine_image(oracle, clean, nullptr, o, &st);
  EXPECT_GT(st.cached_steps, 0);
  EXPECT_EQ(st.cached_steps + st.network_calls, 20);
  EXPECT_LE(max_diff(out, clean), 1e-5f);  // the oracle's answer never changes
}

// Passes part of the start noise through, as an under-trained network does: predicts the
// clean image plus `leak` times the noise it was given.
class LeakyDenoiser : public Denoiser {
 public:
  LeakyDenoiser(const Image& clean, float leak) : clean_(clean), leak_(leak) {
    for (float& v : clean_.pixels) v = 2 * v - 1;
  }
  std::string name() const override { return "leaky"; }
  Image predict_clean(const Image& noisy, float ab, const Image*) override {
    ++calls;
    Image out = clean_;
    for (size_t i = 0; i < out.pixels.size(); ++i)
      out.pixels[i] += leak_ * (noisy.pixels[i] - std::sqrt(ab) * clean_.pixels[i]);
    return out;
  }
  Image clean_;
  float leak_;
  int calls = 0;
};

double rms_error(const Image& a, const Image& b) {
  double s = 0;
  for (size_t i = 0; i < a.pixels.size(); ++i) s += double(a.pixels[i] - b.pixels[i]) * (a.pixels[i] - b.pixels[i]);
  return std::sqrt(s / double(a.pixels.size()));
}

TEST(Sampler, AveragedSamplesShrinkTheResidualNoise) {
  const Image clean = pattern(64, 48, 0.0f);
  SamplerOptions o;
  o.strength = 0.3f;
  o.one_step = true;
  o.seed = 3;
  LeakyDenoiser one(clean, 0.5f);
  const double e1 = rms_error(refine_image(one, clean, nullptr, o), clean);
  o.samples = 16;
  LeakyDenoiser many(clean, 0.5f);
  SamplerStats st;
  const double e16 = rms_error(refine_image(many, clean, nullptr, o, &st), clean);
  EXPECT_EQ(st.network_calls, 16);
  EXPECT_EQ(many.calls, 16);
  // Independent noise per sample: the residual's RMS falls ~1/sqrt(16) = 1/4.
  EXPECT_GT(e1, 0.02);
  EXPECT_LT(e16, 0.35 * e1);
  EXPECT_GT(e16, 0.15 * e1);
  // With an exact denoiser averaging changes nothing.
  OracleDenoiser oracle(clean);
  o.one_step = false;
  o.steps = 4;
  o.samples = 3;
  EXPECT_LE(max_diff(refine_image(oracle, pattern(64, 48, 1.0f), nullptr, o), clean), 1e-5f);
  EXPECT_EQ(oracle.calls, 12);
}

TEST(Sampler, BadInput) {
  const Image im = pattern(8, 8, 0.0f);
  OracleDenoiser oracle(im);
  SamplerOptions o;
  o.strength = 1.5f;
  test::expect_bad_input([&] { refine_image(oracle, im, nullptr, o); }, "strength");
  o.strength = 0.5f;
  const Image small = pattern(4, 4, 0.0f);
  test::expect_bad_input([&] { refine_image(oracle, im, &small, o); }, "reference");
  test::expect_bad_input([&] { refine_image(oracle, Image(), nullptr, o); }, "3-channel");
  o.samples = 0;
  test::expect_bad_input([&] { refine_image(oracle, im, nullptr, o); }, "samples");
}

}  // namespace
}  // namespace sp::prior
