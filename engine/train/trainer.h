#pragma once
// The CPU training backend: the optimization loop of 3DGS (docs/training.md): pick a train
// view, render, photometric loss (L1 + 0.2 D-SSIM), backward, Adam, densify on INRIA's
// schedule scaled to the run length, checkpoint. Deterministic for a given seed and thread
// count. Sparse-view regularizers (docs/sparse_view.md, "Regularizers"): two co-trained
// fields (CoR-GS), pseudo views between the train cameras, FSGS unpooling, depth
// smoothness, opacity and scale terms, and pseudo targets supplied from outside (the
// diffusion prior). Callers above engine/train reach it through TrainingBackend
// (engine/pipeline/devices.h makes one).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/core/rng.h"
#include "engine/core/stage_clock.h"
#include "engine/render/rasterizer.h"
#include "engine/scene/dataset.h"
#include "engine/train/adam.h"
#include "engine/train/checkpoint_file.h"
#include "engine/train/densify.h"
#include "engine/train/train_options.h"
#include "engine/train/training_backend.h"

namespace sp {

// The fingerprint of this run (engine/train/checkpoint_file.h): train views, image size,
// iterations target, seed and the options that change the optimization.
Fingerprint checkpoint_fingerprint(const Dataset& dataset, const TrainOptions& options);
// BadInput "PATH: checkpoint of another run: its KEY is ..." when `stored` names another
// dataset or options than `current`. A different iterations target is refused, warned
// about (extending a run) or allowed.
enum class TargetChange { Refuse, Warn, Allow };
void check_fingerprint(const std::string& path, const Fingerprint& stored, const Fingerprint& current,
                       TargetChange target);

class Trainer final : public TrainingBackend {
 public:
  Trainer(const Dataset& dataset, GaussianModel initial, const TrainOptions& options, Rasterizer& rasterizer);

  std::string device() const override { return "cpu"; }
  StepStats step() override;

  long iteration() const override { return iteration_; }
  long converged_at() const override { return early_stop_.converged_at(); }
  int active_sh_degree() const override { return active_sh_degree_; }
  const GaussianModel& model() const override { return fields_[0].model; }
  const TrainOptions& options() const override { return options_; }
  float extent() const { return extent_; }
  // The second co-trained field (CoR-GS); null without co-training.
  const GaussianModel* second_model() const { return fields_.size() > 1 ? &fields_[1].model : nullptr; }

  // Pseudo targets (replaces the set; empty = none). From then on each iteration trains on
  // one of them with probability options.sample_probability (masked L1 + D-SSIM x
  // loss_weight), otherwise on a train view. They are not saved in checkpoints: re-supply
  // the same set after load_checkpoint to continue bit-exactly.
  void set_pseudo_targets(std::vector<PseudoTarget> targets, const PseudoTargetOptions& options) override;
  size_t pseudo_target_count() const { return pseudo_targets_.size(); }
  // The rasterizer the trainer renders with (to render pseudo views between steps).
  Rasterizer& rasterizer() override { return rasterizer_; }
  void set_depth_priors(std::vector<DepthPrior> priors) override;
  // The pseudo-view poses the regularizers render (fixed by the seed).
  const std::vector<Camera>& pseudo_cameras() const { return pseudo_cameras_; }

  // Everything needed to continue bit-exactly: model (both fields when co-training), Adam
  // moments and steps, densification statistics, RNGs, view order, active SH degree, the
  // learning-rate factors of NaN rollbacks, and a fingerprint of the dataset and options
  // (fingerprint()). Written atomically; a model with non-finite values is refused.
  // Loading refuses (BadInput) a checkpoint whose fingerprint differs, except for the
  // iterations target, which only warns (extending a run).
  void save_checkpoint(const std::string& path) const override;
  void load_checkpoint(const std::string& path) override;
  const Fingerprint& fingerprint() const { return fingerprint_; }
  std::vector<std::pair<std::string, double>> stage_seconds() const override { return clock_.totals(); }
  // The learning-rate factor of each group after NaN rollbacks (1 = untouched).
  const LearningRates& learning_rate_factors() const { return lr_factor_; }
  const AppearanceCodes* appearance_codes() const override {
    return options_.appearance.enabled ? &appearance_ : nullptr;
  }

 private:
  // One Gaussian field with its optimizer state; field 0 is the model; with co-training
  // field 1 is its partner, with its own random source for splits.
  struct Field {
    GaussianModel model;
    AdamState adam;
    DensityController density;
    Rng rng;
  };
  // The state a NaN rollback returns to (everything a checkpoint holds).
  struct Snapshot {
    std::vector<Field> fields;
    Rng rng;
    std::vector<int> view_stack;
    long iteration = -1;
    int active_sh_degree = 0;
    float loss_ema = 0;
    EarlyStop early_stop;
    AppearanceCodes appearance;
    AppearanceAdam appearance_adam;
  };
  void take_snapshot();
  // Restores the snapshot after `what` (e.g. "non-finite gradient") of `group` at iteration
  // `it`, halves that group's learning rate and logs one line; throws after max_rollbacks.
  StepStats roll_back(long it, const std::string& what, const std::string& group);
  int next_view();
  // Drops the Gaussians of `field` fewer than sparse.min_views_seen train cameras see, and
  // with sparse.start_box_margin those outside the start's box.
  size_t prune_outside(Field& field) const;
  void add_gaussian_regularizers(Field& field, GaussianGradients& grads) const;
  const Dataset& dataset_;
  TrainOptions options_;
  DensifySchedule schedule_;
  Rasterizer& rasterizer_;
  // The second co-trained field's own CPU rasterizer, so that both fields render at once
  // (null: one after the other through rasterizer_).
  std::unique_ptr<Rasterizer> partner_rasterizer_;
  Rasterizer& rasterizer_of(size_t field) { return field == 1 && partner_rasterizer_ ? *partner_rasterizer_ : rasterizer_; }
  std::vector<Field> fields_;
  Adam optimizer_;
  Rng rng_;
  std::vector<Camera> pseudo_cameras_;
  std::vector<PseudoTarget> pseudo_targets_;
  PseudoTargetOptions pseudo_target_options_;
  std::vector<int> view_stack_;
  long iteration_ = 0;
  int active_sh_degree_ = 0;
  float extent_ = 1.0f;
  std::vector<glm::vec3> train_centers_;  // for the angular scale cap
  std::vector<Image> backdrop_;           // per view (train views filled): dark backdrop masks
  std::vector<Image> depth_prior_;        // per view (empty = none): stereo depth
  std::vector<Camera> train_cameras_;     // for pruning what no two photos see
  float near_depth_ = 0, far_depth_ = 0;
  float baseline_ = 0;                    // mean distance of a train camera to its nearest other one
  glm::vec3 box_lo_{0.0f}, box_hi_{0.0f};  // sparse.start_box_margin: the start's widened box
  float loss_ema_ = 0.0f;
  EarlyStop early_stop_;
  LearningRates lr_factor_{1, 1, 1, 1, 1, 1, 1};  // halved per group by NaN rollbacks
  // options.appearance: one colour code per train view, its optimizer, the view -> code index
  // (-1 for views that do not train) and its learning-rate factor after NaN rollbacks (kept
  // apart from lr_factor_, whose checkpoint record has a fixed size).
  AppearanceCodes appearance_;
  AppearanceAdam appearance_adam_;
  std::vector<int> appearance_slot_;
  float appearance_lr_factor_ = 1.0f;
  Snapshot snapshot_;
  int rollbacks_ = 0;        // to the current snapshot
  int poisoned_ = 0;         // test_poison_iteration injections so far
  Fingerprint fingerprint_;
  StageClock clock_;         // the per-part breakdown of stage_seconds()
  std::vector<GaussianGradients> grads_, scratch_grads_;  // per field, kept for their buffers
};


}  // namespace sp
