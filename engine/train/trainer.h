#pragma once
// The optimization loop of 3DGS (docs/training.md): pick a train view, render, photometric
// loss (L1 + 0.2 D-SSIM), backward, Adam, densify on INRIA's schedule scaled to the run
// length, checkpoint. Deterministic for a given seed and thread count.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/rng.h"
#include "engine/render/rasterizer.h"
#include "engine/scene/dataset.h"
#include "engine/train/adam.h"
#include "engine/train/densify.h"

namespace sp {

struct TrainOptions {
  long iterations = 3000;
  uint64_t seed = 0;
  float lambda_dssim = 0.2f;
  LearningRates lr;
  float position_lr_final = 1.6e-6f;  // times the scene extent
  int sh_degree = 3;                  // the model's maximum; the active degree grows
  long sh_increase_interval = 1000;   // +1 active SH degree every this many iterations
  // Densification schedule; a negative value takes INRIA's 30k-iteration schedule
  // (500..15000 every 100, opacity reset every 3000) scaled to `iterations`, with the
  // interval kept within 25..100 and the reset interval at least 1000 (see resolve_schedule).
  long densify_from = -1, densify_until = -1, densify_interval = -1, opacity_reset_interval = -1;
  DensifyOptions densify;
  glm::vec3 background{0.0f};
  bool random_background = false;  // a new random background colour every iteration
  long checkpoint_interval = 0;    // 0 = no periodic checkpoints
  std::string checkpoint_dir;      // where checkpoints go (created if needed)
};

// The schedule with negative entries resolved (see TrainOptions).
struct DensifySchedule {
  long from, until, interval, opacity_reset_interval;
};
DensifySchedule resolve_schedule(const TrainOptions& options);

struct StepStats {
  long iteration = 0;      // iterations completed
  float loss = 0;          // this step's loss
  float loss_ema = 0;      // smoothed, as INRIA's progress bar
  float psnr = 0;          // of this step's render against its train image
  size_t gaussians = 0;
  DensityController::Counts densified;  // non-zero on densification steps
};

class Trainer {
 public:
  Trainer(const Dataset& dataset, GaussianModel initial, const TrainOptions& options, Rasterizer& rasterizer);

  // One iteration.
  StepStats step();
  // Runs until options.iterations; calls `on_step` after each iteration.
  void run(const std::function<void(const StepStats&)>& on_step = {});

  long iteration() const { return iteration_; }
  int active_sh_degree() const { return active_sh_degree_; }
  const GaussianModel& model() const { return model_; }
  const TrainOptions& options() const { return options_; }
  float extent() const { return extent_; }

  // Everything needed to continue bit-exactly: model, Adam moments, densification
  // statistics, RNG and view order. Written atomically.
  void save_checkpoint(const std::string& path) const;
  void load_checkpoint(const std::string& path);

 private:
  int next_view();
  const Dataset& dataset_;
  TrainOptions options_;
  DensifySchedule schedule_;
  Rasterizer& rasterizer_;
  GaussianModel model_;
  AdamState adam_;
  Adam optimizer_;
  DensityController density_;
  Rng rng_;
  std::vector<int> view_stack_;
  long iteration_ = 0;
  int active_sh_degree_ = 0;
  float extent_ = 1.0f;
  float loss_ema_ = 0.0f;
};

}  // namespace sp
