#pragma once
// One reconstruction, as every front door runs it (the CLI's `recon`, `train-prior`, the
// benchmarks, `submit`, a GUI): docs/training.md "Pipeline".
//
//   initialize   choose_initial_model (engine/scene/initialization.h); split.json (and
//                config.json, the options given, when the front door passes them); the
//                untrained model's test-view scores
//   train        the training backend of the chosen device, with the regularizer preset
//                and, when configured, the diffusion prior's refinement rounds;
//                checkpoints/last.bin
//   language     a language field on the trained model (LangSplat features), if configured
//   evaluate     render and score the test views (test/renders, gt, side_by_side; masked
//                scores where the dataset has masks; the prior's 2D pass when configured)
//   save         point_cloud.ply (+ .language.npy), cameras.json, metrics.json
//
// Every stage reports to the observer when it starts and ends, and one that does not run
// says why; the result lists them all (a stage is never skipped silently).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <glm/glm.hpp>

#include "engine/core/log.h"
#include "engine/eval/scores.h"
#include "engine/model/gaussian_model.h"
#include "engine/prior/refinement_driver.h"
#include "engine/scene/dataset.h"
#include "engine/scene/initialization.h"
#include "engine/train/presets.h"

namespace sp {

struct LanguageStageConfig {
  std::string features;  // LangSplat language_features/ folder; "" = no language stage
  long iterations = 10000;
};

// Photos in the wild (docs/in_the_wild.md).
struct WildConfig {
  std::string appearance = "auto";  // off | on | auto (on when the photos' exposure differs: engine/train/appearance_rule.h)
  std::string robust_loss = "off";  // off | on: the trimmed loss (engine/train/robust_loss.h); writes transient/
  // Also score every test view's right half after fitting its colour code on its left half
  // (the PhotoTourism protocol of NeRF-W); metrics.json "halves".
  bool half_protocol = false;
};

// What a reconstruction is told; the CLI parses its options straight into this.
struct ReconConfig {
  std::string output;            // output folder; "" = nothing written (the result only)
  long iterations = -1;          // -1: default_iterations (engine/train/presets.h)
  uint64_t seed = 0;
  InitPolicy init;               // its gaussians.seed and sh_degree follow seed and sh_degree
  int sh_degree = 3;
  // Unset: black, or the colour a Blender dataset's transparent photos were composited on.
  std::optional<glm::vec3> background;
  long checkpoint_interval = 0;  // 0 = only the final checkpoint (and one on SIGINT / SIGTERM)
  // Checkpoint to continue from; "auto": OUTPUT/checkpoints/last.bin when it exists (the same
  // run only: its fingerprint must match, iterations target included), else a fresh start.
  std::string resume;
  size_t max_gaussians = 0;
  // Bytes the run may use for decoded images and Gaussians (0 = no limit): the images take at
  // most half, the Gaussians' cap follows from the rest (BadInput when either cannot fit), and
  // every parser's memory budget is set to it (engine/core/memory_budget.h).
  size_t max_memory = 0;
  bool densify = true;
  // Stop before `iterations` once the train loss flattens (docs/training.md "Early stop"); off by default.
  EarlyStopOptions early_stop;
  bool test_views = true;        // render and score the test views
  RegularizerConfig regularizers;
  prior::PriorConfig prior;
  LanguageStageConfig language;
  WildConfig wild;
  std::string device = "auto";   // auto | cpu | cuda (engine/pipeline/devices.h)
  // How the run was asked for, in the front door's own terms (the CLI's options as JSON,
  // tools/sparsplat/option_file.h): written as config.json beside split.json. "" = no file.
  std::string options_json;
  // Tests and benchmarks: edits the training options once the preset is applied (e.g. the
  // test_poison_* fields of TrainOptions); empty = none.
  std::function<void(TrainOptions&)> adjust_training;
};

enum class ReconStage { Initialize, Train, Language, Evaluate, Save };
const char* stage_name(ReconStage stage);  // "initialize", "train", "language", "evaluate", "save"
constexpr int kReconStages = 5;

struct StageReport {
  ReconStage stage = ReconStage::Initialize;
  bool ran = false;
  std::string detail;  // what it did, or why it did not run
  double seconds = 0;
};

class ReconObserver {
 public:
  virtual ~ReconObserver() = default;
  // `total`: the stage's unit count for progress (iterations, views); 0 when it has none.
  virtual void stage_started(ReconStage /*stage*/, const std::string& /*detail*/, long /*total*/) {}
  virtual void stage_finished(const StageReport& /*report*/) {}
  virtual void progress(ReconStage /*stage*/, long /*done*/, const std::string& /*detail*/) {}
  // Log lines of the engine while the reconstruction runs (default: stderr as usual).
  virtual void log(LogSeverity severity, const std::string& message) { write_log_line(severity, message); }
};

struct ReconResult {
  GaussianModel model;           // trained (with the language field when that stage ran)
  Scores scores;                 // test views after training (empty when not rendered)
  Scores initial_scores;         // the same views before training
  long iterations = 0;           // total, and in this run (after a resume)
  long iterations_this_run = 0;
  long iterations_planned = 0;   // the target; more than `iterations` when early stop ended the run
  long converged_at = -1;        // early stop's iteration, -1 when it did not stop the run
  double train_seconds = 0, wall_seconds = 0;
  // Training's wall seconds per part of an iteration (TrainingBackend::stage_seconds), then
  // "other" (held-out checkpoints, progress, the prior's rounds): they sum to train_seconds.
  std::vector<std::pair<std::string, double>> train_breakdown;
  int sh_degree = 0;             // active SH degree at the end
  std::string device;            // "cpu", "cuda: <name>"
  std::string init;              // sfm | mvs | random
  std::string regularizers;      // one-line summary
  std::string appearance;        // "on", "off", with the auto rule's measurement
  // The half protocol (WildConfig::half_protocol): right halves with the colour code fitted on
  // the left half, and without any code.
  Scores half_scores, half_scores_unfitted;
  std::vector<StageReport> stages;  // every stage in order, ran or not
};

// Runs the whole reconstruction. Every option is checked and every image the run uses is
// decoded before the output folder gets its first file, so bad input (BadInput, one line)
// leaves nothing behind. The output folder is locked for the run (engine/core/output_lock.h;
// BadInput when another run holds it). A stop request (engine/core/stop_signal.h) ends the
// run between iterations with checkpoints/last.bin written and an Interrupted error.
ReconResult run_recon(const Dataset& dataset, const ReconConfig& config, ReconObserver& observer);

}  // namespace sp
