#include "engine/prior/sampler.h"

#include <algorithm>
#include <cmath>

#include "engine/core/error.h"
#include "engine/core/rng.h"
#include "engine/prior/schedule.h"

namespace sp::prior {

namespace {

Image to_signal(const Image& pixels) {
  Image s = pixels;
  for (float& v : s.pixels) v = 2.0f * v - 1.0f;
  return s;
}

double mean_abs(const std::vector<float>& v) {
  double sum = 0;
  for (float x : v) sum += std::abs(x);
  return v.empty() ? 0.0 : sum / double(v.size());
}

// One SDEdit/DDIM run in signal space from `x0_in`; returns the x_0 estimate (signal space).
Image sample_once(Denoiser& denoiser, const Image& x0_in, const Image* ref, const SamplerOptions& options,
                  uint64_t seed, SamplerStats& st);

}  // namespace

Image refine_image(Denoiser& denoiser, const Image& image, const Image* reference, const SamplerOptions& options,
                   SamplerStats* stats) {
  if (image.channels != 3 || image.empty()) throw_bad_input("refine_image", "needs a non-empty 3-channel image");
  if (reference && !reference->empty() &&
      (reference->width != image.width || reference->height != image.height || reference->channels != 3))
    throw_bad_input("refine_image", "the reference image must match the image's size and have 3 channels");
  if (!(options.strength >= 0.0f && options.strength <= 1.0f))
    throw_bad_input("strength", "must lie in [0, 1]");
  if (!options.one_step && options.steps < 1) throw_bad_input("steps", "must be at least 1");
  if (options.samples < 1) throw_bad_input("samples", "must be at least 1");
  SamplerStats local;
  SamplerStats& st = stats ? *stats : local;
  st = {};
  if (options.strength == 0.0f) return image;

  const Image x0_in = to_signal(image);
  Image ref_signal;
  const Image* ref = nullptr;
  if (reference && !reference->empty()) {
    ref_signal = to_signal(*reference);
    ref = &ref_signal;
  }

  Image x0;
  for (int k = 0; k < options.samples; ++k) {
    const Image one = sample_once(denoiser, x0_in, ref, options, options.seed + uint64_t(k) * 0x9E3779B97F4A7C15ull, st);
    if (k == 0) {
      x0 = one;
    } else {
      for (size_t i = 0; i < x0.pixels.size(); ++i) x0.pixels[i] += one.pixels[i];
    }
  }
  if (options.samples > 1)
    for (float& v : x0.pixels) v /= float(options.samples);
  Image out(image.width, image.height, 3);
  for (size_t i = 0; i < out.pixels.size(); ++i) out.pixels[i] = std::clamp(0.5f * (x0.pixels[i] + 1.0f), 0.0f, 1.0f);
  return out;
}

namespace {

Image sample_once(Denoiser& denoiser, const Image& x0_in, const Image* ref, const SamplerOptions& options,
                  uint64_t seed, SamplerStats& st) {
  // Noise to the start time.
  const float t0 = options.strength;
  const float ab0 = alpha_bar(t0);
  Image x = x0_in;
  {
    Rng rng(seed);
    const float a = std::sqrt(ab0), b = std::sqrt(1.0f - ab0);
    for (float& v : x.pixels) v = a * v + (options.zero_noise ? 0.0f : b * rng.normal());
  }

  Image x0;
  if (options.one_step) {
    x0 = denoiser.predict_clean(x, ab0, ref);
    ++st.network_calls;
  } else {
    Image last_input;
    for (int k = 0; k < options.steps; ++k) {
      const float t = t0 * float(options.steps - k) / float(options.steps);
      const float t_next = t0 * float(options.steps - k - 1) / float(options.steps);
      const float ab = alpha_bar(t), ab_next = alpha_bar(t_next);
      bool reuse = false;
      if (options.cache_threshold > 0 && !last_input.empty()) {
        double diff = 0;
        for (size_t i = 0; i < x.pixels.size(); ++i) diff += std::abs(x.pixels[i] - last_input.pixels[i]);
        diff /= double(x.pixels.size());
        reuse = diff < options.cache_threshold * std::max(1e-6, mean_abs(x.pixels));
      }
      if (reuse) {
        ++st.cached_steps;
      } else {
        x0 = denoiser.predict_clean(x, ab, ref);
        last_input = x;
        ++st.network_calls;
      }
      // DDIM (eta = 0): the eps implied by x_t and the x_0 prediction, carried to t_next.
      const float sa = std::sqrt(ab), sb = std::sqrt(std::max(1e-12f, 1.0f - ab));
      const float sa_n = std::sqrt(ab_next), sb_n = std::sqrt(std::max(0.0f, 1.0f - ab_next));
      for (size_t i = 0; i < x.pixels.size(); ++i) {
        const float eps = (x.pixels[i] - sa * x0.pixels[i]) / sb;
        x.pixels[i] = sa_n * x0.pixels[i] + sb_n * eps;
      }
    }
    x0 = x;  // at t = 0, alpha_bar = 1: x is the clean estimate
  }
  return x0;
}

}  // namespace

}  // namespace sp::prior
