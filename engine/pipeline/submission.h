#pragma once
// Submissions to the SpaRe benchmark (AIM 2024 sparse neural rendering; docs/submission.md):
// the benchmark's layout, the per-scene loop over run_recon with resume and shards, the
// archive, its check, merging shard archives, and scoring against ground truth.
//
//   make_submission   for each selected scene of the split file: stage its input views,
//                     run_recon on them (engine/pipeline/recon.h), render every test view at
//                     the output size (the input images' size, 1600x1200 on the benchmark,
//                     however small the training resolution), write the PNGs under the
//                     benchmark's names into the work folder; then the archive, which is
//                     checked (check_submission) before it is renamed into place
//   check_submission  missing / extra / unreadable / wrongly sized / wrongly named PNGs
//   merge_submissions shard archives -> one archive, checked the same way
//   score_submission  the benchmark's metrics (engine/eval/scores.h score_view_spare) of an
//                     archive's images against ground-truth images and masks
//
// Work folder (resume): <work>/<scene>/ holds a finished scene's PNGs and done.json (the
// settings it was made with); a scene is rendered into <work>/<scene>.partial/ and renamed
// when complete. A re-run reuses finished scenes whose settings match, and redoes partial
// ones and those whose settings changed. The same seed and thread count give byte-identical
// PNGs, whether a run was interrupted or not.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/core/log.h"
#include "engine/eval/scores.h"
#include "engine/io/spare.h"
#include "engine/pipeline/recon.h"
#include "engine/scene/dataset.h"

namespace sp {

// The benchmark evaluates lighting set-up 3.
constexpr int kSubmissionLighting = 3;
constexpr int kSubmissionWidth = 1600, kSubmissionHeight = 1200;

// How a scene's images are named: SpaRe's synthetic scenes cam_{i+1:03d}_3_0000.png, the
// DTU-derived ones rect_{i+1:03d}_3_r5000.png (view index i of the split file).
enum class SceneNaming { Unknown, Synthetic, Dtu };
std::string submission_image_name(SceneNaming naming, int view);
// From the split file's "dataset" string: containing "dtu" -> Dtu; "synth" or "spare" ->
// Synthetic; otherwise Unknown (then the scene's images decide).
SceneNaming naming_of_dataset(const std::string& dataset);

// Which scenes of a split file to work on: all, the named ones, and of those shard I of N
// (1-based; the scenes sorted by name, every N-th from the I-th). BadInput for a name not
// in the split, a malformed shard, or a selection that leaves no scene.
struct SceneSelection {
  std::vector<std::string> scenes;  // empty: every scene of the split
  int shard = 0, shards = 0;        // 0/0: no sharding
};
// "I/N" -> shard, shards (BadInput otherwise).
void parse_shard(const std::string& text, SceneSelection& selection);
std::vector<std::string> select_scenes(const std::map<std::string, SpareSplit>& split, const SceneSelection& selection,
                                       const std::string& split_file);

// ---- making a submission ----

struct SubmissionConfig {
  std::string data_root;        // scene folders (input views, pos_XXX.txt)
  std::string split_file;       // Track{1,2}_split_{development,test}.json
  int views = 0;                // train on the first N input views of each scene; 0 = all of them
  std::string archive;          // the .zip to write
  std::string work_dir;         // "" = the archive's path with .zip replaced by .work
  std::string calibration;      // folder of pos_XXX.txt (or <scene>/pos_XXX.txt); "" = in the scene folders
  SceneSelection selection;
  DatasetOptions dataset;       // training resolution (downscale / resolution); split fields ignored
  ReconConfig recon;            // per scene (output is ignored: nothing of the run is kept but the renders)
  int width = 0, height = 0;    // output size; 0 = the size of the scene's input images
  // What the caller's options were (a canonical text, e.g. every option of the command):
  // part of each finished scene's settings, so a re-run with other options redoes it.
  std::string settings;
};

struct SceneReport {
  std::string scene;
  bool reused = false;          // finished by an earlier run with the same settings
  int images = 0;
  double seconds = 0;           // this run's time on the scene (0 when reused)
  long iterations = 0;
  size_t gaussians = 0;
  std::string device, init;
};

class SubmissionObserver {
 public:
  virtual ~SubmissionObserver() = default;
  // Inputs of every selected scene are being checked (decoded) before any work starts.
  virtual void checking_inputs(int /*scenes*/) {}
  // Scene `index` (0-based) of the `count` this run reconstructs starts; `units` = training
  // iterations + test views to render.
  virtual void scene_started(int /*index*/, int /*count*/, const std::string& /*scene*/, long /*units*/) {}
  // `done` units of the current scene; `eta_seconds`: the whole run's remaining time (< 0 unknown).
  virtual void scene_progress(long /*done*/, const std::string& /*detail*/, double /*eta_seconds*/) {}
  virtual void scene_finished(const SceneReport& /*report*/, double /*eta_seconds*/) {}
  virtual void scene_reused(const SceneReport& /*report*/) {}
  // The engine's log lines while the run works (default: stderr as usual).
  virtual void log(LogSeverity severity, const std::string& message) { write_log_line(severity, message); }
};

struct CheckProblem {
  std::string scene;  // "" for problems outside any scene folder
  std::string entry;  // the archive entry (or the expected one, for a missing image)
  std::string what;   // "missing", "extra file", "800x600, expected 1600x1200", ...
  std::string line() const;  // "scene/entry: what"
};
struct CheckSceneSummary {
  std::string scene;
  int expected = 0, found = 0, problems = 0;
};
struct CheckReport {
  std::string archive;
  std::vector<CheckSceneSummary> scenes;
  std::vector<CheckProblem> problems;
  size_t images = 0;  // valid test-view PNGs
  bool ok() const { return problems.empty(); }
};

struct SubmissionResult {
  std::vector<SceneReport> scenes;
  std::string archive, work_dir;
  int width = 0, height = 0;  // output size of the first scene (of every scene, on the benchmark)
  CheckReport check;          // of the archive written (always ok: a failing archive is not kept)
  double seconds = 0;
};

// Every selected scene's inputs are checked (split entries, pos files, input images decoded)
// before any reconstruction, so bad input fails at once (BadInput, one line) with no archive.
SubmissionResult make_submission(const SubmissionConfig& config, SubmissionObserver& observer);

// ---- checking and merging ----

struct CheckOptions {
  std::vector<std::string> scenes;             // the scenes the archive must hold (all of the split's: select_scenes)
  int width = kSubmissionWidth, height = kSubmissionHeight;
  std::map<std::string, SceneNaming> naming;   // known namings (else naming_of_dataset, else the archive's files)
  std::map<std::string, std::pair<int, int>> sizes;  // per-scene width, height where they differ from the above
};
// BadInput when the archive cannot be opened at all; problems in it are in the report.
CheckReport check_submission(const std::string& archive, const std::map<std::string, SpareSplit>& split,
                             const CheckOptions& options);

// The entries of the part archives in one archive at `output` (written only when it passes
// check_submission with `options`; otherwise the report's problems say why and nothing is
// written). BadInput for a part that cannot be read or two parts holding the same entry.
CheckReport merge_submissions(const std::vector<std::string>& parts, const std::string& output,
                              const std::map<std::string, SpareSplit>& split, const CheckOptions& options);

// ---- scoring ----

struct ScoreOptions {
  std::string ground_truth;     // root with <scene>/<image name> (lighting 3) and <scene>/mask/{i:03d}.png
  std::string lpips_weights;    // "" with lpips = true: BadInput (where the weights come from)
  bool lpips = true;
  std::vector<std::string> scenes;  // as CheckOptions::scenes
};
struct SceneScores {
  std::string scene, dataset;   // dataset: the split file's "dataset" string
  Scores scores;
};
struct ScoreReport {
  std::vector<SceneScores> scenes;      // scenes with ground truth, by name
  std::vector<std::string> skipped;     // selected scenes without any ground-truth image
  std::map<std::string, Scores> by_dataset;  // every view of the scenes of each dataset
  Scores all;
  std::string json() const;             // per view, per scene, per dataset and overall
};
// How many test views of `scenes` have a ground-truth image under `root` (either naming):
// a scoring run checks this before it starts.
size_t count_ground_truth(const std::string& root, const std::map<std::string, SpareSplit>& split,
                          const std::vector<std::string>& scenes);
// The benchmark's metrics (score_view_spare) of the archive's images. BadInput when a
// scene's ground truth is incomplete, an image size differs, or no scene has ground truth.
ScoreReport score_submission(const std::string& archive, const std::map<std::string, SpareSplit>& split,
                             const ScoreOptions& options);

}  // namespace sp
