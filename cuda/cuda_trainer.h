#pragma once
// The GPU-resident training loop for the PLAIN 3DGS recipe (docs/cuda.md): parameters,
// gradients and Adam moments live in flat device buffers (cuda/flat_params.h) and every
// iteration runs forward → L1 + D-SSIM → backward → densification statistics → fused Adam
// on the device. Per iteration the host reads back only scalars: the tile-entry count (to
// size the sort) and the loss sums (progress line, NaN check).
//
// Densification (clone/split/prune) and the opacity reset still round-trip through the host
// at their intervals (every 25..100 iterations): model, moments and statistics are
// downloaded, the CPU's DensityController (the reference) runs, and the result is uploaded.
//
// It follows engine/train/trainer.cpp's step() for the plain recipe, consuming the same
// random numbers in the same order (view shuffle, random background, splits), so a CUDA and
// a CPU run from the same seed follow each other up to float rounding. Sparse-view
// regularizers, co-training, pseudo views/targets and checkpoints are not implemented here:
// cuda_trainer_unsupported() names the first such option so callers can fall back to the
// CPU Trainer or refuse.
#include <functional>
#include <memory>
#include <string>

#include "engine/scene/dataset.h"
#include "engine/train/train_options.h"
#include "engine/train/training_backend.h"

namespace sp {

// "" when CudaTrainer can run `options`; else the first option it lacks, in words
// (e.g. "co-training"). Checks no device.
std::string cuda_trainer_unsupported(const TrainOptions& options);

class CudaTrainer final : public TrainingBackend {
 public:
  // Throws BadInput for options cuda_trainer_unsupported() names, Internal without a device.
  CudaTrainer(const Dataset& dataset, GaussianModel initial, const TrainOptions& options);
  ~CudaTrainer() override;
  CudaTrainer(const CudaTrainer&) = delete;
  CudaTrainer& operator=(const CudaTrainer&) = delete;

  std::string device() const override;  // "cuda: <device 0 in words>"
  StepStats step() override;

  long iteration() const override;
  int active_sh_degree() const override;
  const TrainOptions& options() const override;
  float extent() const;
  // The current model, downloaded from the device (cached until the next step).
  const GaussianModel& model() const override;

  // Not implemented on the GPU: checkpoints and pseudo targets (BadInput naming --device cpu).
  std::string checkpoints_unsupported() const override { return "the CUDA trainer does not write checkpoints"; }
  void save_checkpoint(const std::string& path) const override;
  void load_checkpoint(const std::string& path) override;
  void set_pseudo_targets(std::vector<PseudoTarget> targets, const PseudoTargetOptions& options) override;
  // A host-pointer CUDA rasterizer (cuda_rasterizer.h) for renders between steps.
  Rasterizer& rasterizer() override;
  void set_depth_priors(std::vector<DepthPrior> priors) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sp
