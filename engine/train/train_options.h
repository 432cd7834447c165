#pragma once
// What a training run is told (TrainOptions and the sparse-view regularizers), what each
// step reports (StepStats), and pseudo ground truth supplied from outside; shared by every
// training backend (engine/train/training_backend.h).
#include <cstdint>
#include <string>

#include <glm/glm.hpp>

#include "engine/core/camera.h"
#include "engine/core/image.h"
#include "engine/train/adam.h"
#include "engine/train/backdrop.h"
#include "engine/train/densify.h"
#include "engine/train/early_stop.h"
#include "engine/train/robust_loss.h"
#include "engine/train/unpooling.h"

namespace sp {

// Prior-free sparse-view regularizers; each weight 0 / flag false = off. See
// docs/sparse_view.md for what each buys. sparse_view_defaults() gives the measured preset.
struct SparseViewOptions {
  float opacity_entropy = 0.0f;     // weight of the mean opacity entropy (regularizers.h)
  float scale_penalty = 0.0f;       // weight of the scale penalty beyond max_scale x extent
  float max_scale = 0.05f;
  float anisotropy_penalty = 0.0f;  // weight of the penalty on ln(max/min scale) beyond ln(max_anisotropy)
  float max_anisotropy = 10.0f;
  // Cap every scale axis at this x the distance to the nearest train camera (a projection
  // after each step, clamp_angular_scales); 0 = no cap.
  float max_angular_scale = 0.0f;
  float depth_smoothness = 0.0f;    // weight of the edge-aware depth smoothness (train and pseudo views)
  float depth_curvature = 0.0f;     // weight of the edge-aware depth curvature (same views): planar, not flat
  float depth_edge_gamma = 10.0f;
  // Pseudo views: a pool of poses between the train cameras (pseudo_views.h), one rendered
  // per iteration from `pseudo_from` x iterations on, at pseudo_resolution x the train size.
  // They carry the co-regularization and the depth smoothness (no photo there).
  int pseudo_views = 0;             // pool size; 0 = none
  float pseudo_from = 0.2f;         // FSGS starts them at 2k of 10k iterations
  float pseudo_resolution = 0.5f;
  // Render a pseudo view on one iteration in this many (its terms weighted by the same
  // factor, so the expected gradient is unchanged): the pseudo pass costs a second render
  // and backward per field; 1 = every iteration.
  int pseudo_every = 1;
  // Tilt each pseudo pose about the rig's focus (tilt_about) by up to this x the train
  // cameras' mean neighbour angle: views above and below the arc; 0 = between the cameras
  // only. Needs a converging rig (rig_focus); ignored for forward-facing captures.
  float pseudo_tilt = 0.0f;
  // CoR-GS: a second field trained alongside from the same start with its own randomness;
  // the disagreement of their renders at pseudo views is a loss (L1 + D-SSIM, weight
  // co_regularization), and every co_prune_rounds densification rounds each field drops the
  // Gaussians with no centre of the other field within co_prune_factor x its own median
  // nearest-neighbour distance. The model evaluated and saved is field 0.
  bool co_training = false;
  float co_regularization = 1.0f;
  int co_prune_rounds = 5;
  float co_prune_factor = 5.0f;
  // FSGS proximity-guided unpooling every unpool_rounds densification rounds.
  bool unpooling = false;
  int unpool_rounds = 5;
  UnpoolingOptions unpool;
  // When densify.max_gaussians is set, raise it to at least this x the initial count (a
  // dense MVS start must still be able to grow); 0 = leave the budget as given.
  float budget_growth = 0.0f;
  // Dark backdrop of a DTU-style rig (engine/train/backdrop.h): its pixels leave the
  // photometric loss and their rendered alpha is pulled to 0 with this weight (mean alpha²
  // over them), as CoR-GS's DTU setup does; 0 = off.
  float backdrop_alpha = 0.0f;
  BackdropOptions backdrop;
  // Binocular3DGS's opacity decay in place of INRIA's opacity reset: after densify_from,
  // every iteration multiplies each opacity by this factor (< 1; Adam moments untouched),
  // so Gaussians the photos do not keep up fade and get pruned; 0 = off (resets as INRIA).
  float opacity_decay = 0.0f;
  // At each densification round, prune Gaussians whose centre fewer than this many train
  // cameras see (inside the image, between the dataset's near and far depth): what leaves
  // the region the photos constrain; 0 = off.
  int min_views_seen = 0;
  // At each densification round, prune Gaussians outside the box of the start (per axis the
  // 1st..99th percentile of the initial centres, widened by this fraction of its size on each
  // side): a stereo start outlines the scene, and sheets near the cameras lie outside it;
  // 0 = off.
  float start_box_margin = 0.0f;
  // Weight of the stereo depth prior (depth_prior_l1 in regularizers.h) on train views that
  // have a DepthPrior (TrainingBackend::set_depth_priors; the pipeline hands over the plane
  // sweep's consistent depth); 0 = off. DNGaussian regularizes with monocular depth; the
  // stereo depth is what is available here.
  float depth_prior = 0.0f;
  // Binocular3DGS's consistency term (engine/train/binocular.h): from `binocular_from` x
  // iterations on, each train view is also rendered from its camera shifted sideways by up
  // to binocular_shift x the train cameras' mean nearest-neighbour distance and warped back
  // with the rendered depth; weight 0 = off.
  float binocular = 0.0f;
  float binocular_shift = 0.5f;
  float binocular_from = 0.5f;
  // The shifted render on one iteration in this many, its weight multiplied by the same
  // factor (expected gradient unchanged, a full render and backward saved on the others);
  // 1 = every iteration.
  int binocular_every = 1;
};

// Per-pixel depth of a train view (camera z; 0 = unknown), at the view's camera size.
struct DepthPrior {
  int view = -1;  // dataset view index
  Image depth;    // 1 channel
};

// Pseudo ground truth at a novel pose (e.g. a render refined by the diffusion prior).
struct PseudoTarget {
  Camera camera;
  Image image;  // 3 channels at the camera's size: pseudo ground truth
  Image mask;   // 1 channel per-pixel loss weight in [0,1]; empty = every pixel
};
struct PseudoTargetOptions {
  float sample_probability = 0.3f;  // chance an iteration trains on a pseudo target instead of a train view
  float loss_weight = 0.3f;         // multiplies that iteration's photometric loss
};

// Per-image affine colour codes (engine/train/appearance.h, docs/in_the_wild.md).
struct AppearanceOptions {
  bool enabled = false;
  float lr = 2e-2f;  // Adam, per code; each code steps only when its photo is trained on
};

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
  std::string checkpoint_dir;      // where checkpoints go (created if needed): ckpt_N.bin and last.bin
  // Poison values (docs/training.md "NaN rollback"): a non-finite loss, gradient or parameter
  // rolls the run back to an in-memory copy of its state taken every `rollback_interval`
  // iterations, halves the offending group's learning rate, and fails after `max_rollbacks`
  // rollbacks to the same copy.
  long rollback_interval = 50;
  int max_rollbacks = 5;
  // For tests only: poison one gradient of field 0 (of `test_poison_group`: means, scales,
  // rotations, opacities, sh; or appearance: the step's colour code) with NaN at this
  // iteration, the first `test_poison_times` times the run gets there; 0 = never.
  long test_poison_iteration = 0;
  int test_poison_times = 1;
  std::string test_poison_group = "opacities";
  SparseViewOptions sparse;
  // Photos in the wild (docs/in_the_wild.md): off unless asked for (or --appearance auto
  // finds the photos' exposure differs, engine/train/appearance_rule.h).
  AppearanceOptions appearance;
  RobustLossOptions robust;
  // Stop before `iterations` once the train loss has flattened (docs/training.md "Early stop").
  EarlyStopOptions early_stop;
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
  size_t co_pruned = 0, unpooled = 0;   // this step's co-pruning / unpooling (field 0)
  bool pseudo_target = false;           // this step trained on a pseudo target
  bool binocular = false;               // this step rendered the binocular shift
  bool pseudo_view = false;             // this step rendered a pseudo view (co-regularization, depth terms)
  // A poison value was found: the run went back to `iteration` (the last good copy).
  bool rolled_back = false;
};

}  // namespace sp
