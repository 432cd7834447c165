#pragma once
// Diffusion-prior refinement during a reconstruction (docs/prior.md): drives the loop of
// engine/prior/refinement.h from the training loop (after every step, a round when one is
// due hands refined pseudo views to the training backend), and the optional 2D pass that
// refines the final test renders. No torch here: the denoiser comes through denoiser.h.
#include <memory>
#include <string>
#include <vector>

#include <glm/glm.hpp>

#include "engine/eval/scores.h"
#include "engine/prior/refinement.h"
#include "engine/scene/dataset.h"
#include "engine/train/training_backend.h"

namespace sp::prior {

// What a user sets for the prior in a reconstruction; the defaults are the settings
// measured in bench/RESULTS.md ("Diffusion prior").
struct PriorConfig {
  std::string model;              // built-in prior (train-prior's prior.pt) or TorchScript; "" = off
  long start = -1;                // first round at this iteration; -1: half of the run
  long every = -1;                // then every N; -1: a quarter of the run
  int views = 6;                  // pseudo views per round
  float pose_fraction = 0.5f;     // with targets "test": per-round step toward the test poses
  std::string targets = "auto";   // auto (test when the dataset has test views) | interpolated | test
  float sample_probability = 0.3f;
  float loss_weight = 0.3f;
  float alpha_threshold = 0.5f;
  float strength_start = 0.5f, strength_end = 0.2f;
  int steps = 10;                 // DDIM steps
  bool one_step = true;           // measured better than 10 DDIM steps (docs/prior.md)
  float cache_threshold = 0.0f;
  int samples = 8;                // refinements averaged per view (sampler.h: less residual noise)
  float min_change = 0.02f;       // leave pixels the prior barely changed unsupervised (refinement.h)
  float final_pass = 0.0f;        // > 0: also refine the test renders at this strength (2D pass)
  bool enabled() const { return !model.empty(); }
};

class RefinementDriver {
 public:
  // Loads the model (BadInput when the file is bad or the build has no libtorch).
  // `out_dir`: where each round's render | refined | mask strips go ("" = nowhere).
  RefinementDriver(const PriorConfig& config, const Dataset& data, long iterations, glm::vec3 background,
                   uint64_t seed, const std::string& out_dir);
  ~RefinementDriver();
  // Call after every training step: runs a round when one is due and hands the refined
  // pseudo views to the backend.
  void after_step(TrainingBackend& backend);
  int rounds() const { return round_; }
  double seconds() const { return seconds_; }
  // The 2D pass: each test render refined at config.final_pass strength (nearest train
  // photo as reference), written to <out_dir>/test_prior2d/renders and scored. Empty when
  // the pass is off.
  Scores final_pass(Rasterizer& rasterizer, const GaussianModel& model, const RenderOptions& ro);

 private:
  const PriorConfig config_;
  const Dataset& data_;
  long iterations_;
  glm::vec3 background_;
  std::string out_dir_;
  RefinementOptions options_;
  std::unique_ptr<Denoiser> denoiser_;
  std::vector<Camera> train_cameras_;
  int round_ = 0;
  double seconds_ = 0;
};

}  // namespace sp::prior
