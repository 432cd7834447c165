#pragma once
// SDEdit refinement with a DDIM sampler (eta = 0) on top of any Denoiser.
//
// The input image x is noised to the start time t0 = strength:
//   x_t0 = sqrt(ab(t0)) x + sqrt(1 - ab(t0)) eps
// then stepped deterministically down to t = 0 over `steps` equal time steps, each step
// predicting x_0 and re-noising it with the implied eps (DDIM). One-step mode predicts x_0
// from x_t0 once (Difix3D+'s single-step fixer). Strength 0 returns the input unchanged.
//
// Caching (ERTACache / Delta-DiT idea): adjacent DDIM steps see nearly the same input, so
// a step may reuse the previous step's x_0 prediction instead of running the network when
// the input has moved less than `cache_threshold` (mean absolute change relative to the
// input's mean magnitude); 0 disables it.
#include <cstdint>

#include "engine/core/image.h"
#include "engine/prior/denoiser.h"

namespace sp::prior {

struct SamplerOptions {
  float strength = 0.5f;     // SDEdit start time in [0, 1]
  int steps = 10;            // DDIM steps from strength down to 0 (ignored in one-step mode)
  bool one_step = false;
  uint64_t seed = 0;         // start noise
  bool zero_noise = false;   // start from sqrt(ab) x without eps (a deterministic test path)
  float cache_threshold = 0; // reuse the last x_0 prediction below this relative input change
  // Average of this many independent refinements (each with its own start noise). An
  // imperfect denoiser leaves part of the start noise in its answer; that residual is
  // independent between seeds and shrinks ~1/sqrt(samples), while the correction it agrees
  // on stays (an estimate of the posterior mean, which is what an L1/L2 pseudo target wants).
  int samples = 1;
};

struct SamplerStats {
  int network_calls = 0;
  int cached_steps = 0;
};

// Refines a 3-channel [0, 1] image; `reference` may be null. Output is clamped to [0, 1].
// Stats count network calls and cached steps over all `samples`.
Image refine_image(Denoiser& denoiser, const Image& image, const Image* reference, const SamplerOptions& options,
                   SamplerStats* stats = nullptr);

}  // namespace sp::prior
