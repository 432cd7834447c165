#pragma once
// The contract every training backend keeps: the CPU Trainer (engine/train/trainer.h) and
// the GPU-resident CudaTrainer (cuda/cuda_trainer.h). The pipeline drives a reconstruction
// through it without knowing which one runs; engine/pipeline/devices.h makes one.
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "engine/model/gaussian_model.h"
#include "engine/render/rasterizer.h"
#include "engine/train/appearance.h"
#include "engine/train/train_options.h"

namespace sp {

class TrainingBackend {
 public:
  virtual ~TrainingBackend() = default;

  // Where it runs, in words, for logs and metrics.json ("cpu", "cuda: NVIDIA H200, ...").
  virtual std::string device() const = 0;
  // One iteration.
  virtual StepStats step() = 0;
  // Steps until options().iterations (or early stop); calls `on_step` after each iteration.
  void run(const std::function<void(const StepStats&)>& on_step = {}) {
    while (iteration() < options().iterations && converged_at() < 0) {
      const StepStats s = step();
      if (on_step) on_step(s);
    }
  }

  virtual long iteration() const = 0;
  // Early stop (TrainOptions::early_stop): the iteration the loss flattened at, -1 while not.
  virtual long converged_at() const { return -1; }
  virtual int active_sh_degree() const = 0;
  // The model being trained (field 0 under co-training).
  virtual const GaussianModel& model() const = 0;
  virtual const TrainOptions& options() const = 0;

  // Checkpoints that continue bit-exactly. A backend without them returns what it lacks in
  // words from checkpoints_unsupported() and throws BadInput from save/load.
  virtual std::string checkpoints_unsupported() const { return {}; }
  virtual void save_checkpoint(const std::string& path) const = 0;
  virtual void load_checkpoint(const std::string& path) = 0;

  // Pseudo ground truth from outside (the diffusion prior) and the rasterizer to render its
  // pseudo views with. A backend without pseudo targets throws BadInput.
  virtual void set_pseudo_targets(std::vector<PseudoTarget> targets, const PseudoTargetOptions& options) = 0;
  virtual Rasterizer& rasterizer() = 0;

  // Depth priors for train views (options().sparse.depth_prior weighs them). A backend
  // without them throws BadInput.
  virtual void set_depth_priors(std::vector<DepthPrior> priors) = 0;
  // Wall seconds per part of an iteration (render, loss, backward, ...) summed over the
  // iterations this process ran, in the order the parts first ran; empty when the backend
  // does not time them.
  virtual std::vector<std::pair<std::string, double>> stage_seconds() const { return {}; }

  // The per-photo colour codes (options().appearance); null when the run has none.
  virtual const AppearanceCodes* appearance_codes() const { return nullptr; }
};

}  // namespace sp
