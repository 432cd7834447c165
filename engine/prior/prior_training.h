#pragma once
// Training the built-in UNet (engine/prior/unet.h) on image triples the engine makes itself
// (tools/sparsplat/cmd_train_prior.cpp): the clean ground truth, a degraded version (a
// sparse-view render with its artifacts; empty for the plain denoising objective) and the
// nearest training photo as reference. Each step draws a random crop per sample and a
// random time t, noises the degraded (or clean) crop to x_t and regresses x_0 = the clean
// crop with an L1 loss. Built only with libtorch.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/image.h"
#include "engine/core/rng.h"
#include "engine/prior/unet.h"

namespace sp::prior {

struct TrainingSample {
  Image clean;      // 3 channels, [0, 1]
  Image degraded;   // same size, or empty: pure denoising of `clean`
  Image reference;  // same size, or empty: no reference
};

struct PriorOptimizerOptions {
  float learning_rate = 3e-4f;
  int crop = 48;                // square crops (clamped to the image); a multiple of 2^(levels-1)
  float degraded_t_max = 0.7f;  // artifact samples use t in [0, this]: SDEdit strengths
  float reference_dropout = 0.15f;  // sometimes hide the reference so the model works without one
};

class PriorOptimizer {
 public:
  PriorOptimizer(UNetDenoiser& network, const PriorOptimizerOptions& options);
  ~PriorOptimizer();
  // One Adam step on a batch; returns the batch's mean L1 loss.
  float step(const std::vector<const TrainingSample*>& batch, Rng& rng);
  long steps() const { return steps_; }
  // Network weights, Adam moments, the step count and the caller's `run_state` (what its
  // loop needs to continue bit-exactly: RNG state, smoothed loss, fingerprint), atomically.
  void save_checkpoint(const std::string& path, const std::string& run_state = "") const;
  // Returns the run state saved with it ("" for a checkpoint written without one).
  std::string load_checkpoint(const std::string& path);

 private:
  struct State;
  UNetDenoiser& network_;
  PriorOptimizerOptions options_;
  std::unique_ptr<State> state_;
  long steps_ = 0;
};

}  // namespace sp::prior
