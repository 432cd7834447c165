// sparsplat submit: benchmark submissions (SpaRe) through engine/pipeline/submission.h; this
// file parses the modes and shows progress and results (docs/submission.md).
#include <cstdio>
#include <filesystem>
#include <memory>

#include "engine/core/error.h"
#include "engine/core/log.h"
#include "engine/core/progress.h"
#include "engine/eval/lpips.h"
#include "engine/pipeline/submission.h"
#include "tools/sparsplat/common.h"

namespace sp::cli {
namespace fs = std::filesystem;

namespace {

std::string duration(double seconds) {
  if (seconds < 0) return "?";
  const long t = long(seconds + 0.5);
  char b[32];
  if (t >= 3600)
    std::snprintf(b, sizeof b, "%ldh%02ldm", t / 3600, (t / 60) % 60);
  else
    std::snprintf(b, sizeof b, "%ldm%02lds", t / 60, t % 60);
  return b;
}

// One progress line per scene, with the whole run's ETA; the engine's info lines only
// between scenes (inside one they would break the line; -v shows them all).
class SubmitProgress final : public SubmissionObserver {
 public:
  void checking_inputs(int scenes) override {
    log_info("submit: checking the inputs of " + std::to_string(scenes) + " scenes");
  }
  void scene_started(int index, int count, const std::string& scene, long units) override {
    char position[48];
    std::snprintf(position, sizeof position, "[%d/%d] ", index + 1, count);
    label_ = position + scene;
    line_ = std::make_unique<ProgressLine>(label_, units, 10.0);
  }
  void scene_progress(long done, const std::string& detail, double eta) override {
    if (line_) line_->update(done, detail + " | all scenes: ETA " + duration(eta));
  }
  void scene_finished(const SceneReport& r, double eta) override {
    if (line_)
      line_->finish(std::to_string(r.iterations) + " it, " + std::to_string(r.gaussians) + " Gaussians, " +
                    std::to_string(r.images) + " views | all scenes: ETA " + duration(eta));
    line_.reset();
  }
  void scene_reused(const SceneReport& r) override {
    log_info("[-] " + r.scene + ": finished by an earlier run with the same settings; reused");
  }
  void log(LogSeverity severity, const std::string& message) override {
    if (line_ && severity == LogSeverity::Info) {
      log_debug_line(message);
      return;
    }
    write_log_line(severity, message);
  }

 private:
  static void log_debug_line(const std::string& message) {
    if (log_level() == LogLevel::Debug) write_log_line(LogSeverity::Debug, message);
  }
  std::string label_;
  std::unique_ptr<ProgressLine> line_;
};

void parse_size(const std::string& text, int& width, int& height) {
  width = height = 0;
  if (text.empty()) return;
  char tail = 0;
  if (std::sscanf(text.c_str(), "%dx%d%c", &width, &height, &tail) != 2 || width < 1 || height < 1 || width > 65536 ||
      height > 65536)
    throw_bad_input("--size", "expected WIDTHxHEIGHT (e.g. 1600x1200), found '" + text + "'");
}

SceneSelection selection_of(const SubmitArgs& a) {
  SceneSelection s;
  s.scenes = a.scenes;
  if (!a.shard.empty()) parse_shard(a.shard, s);
  return s;
}

bool is_archive(const std::string& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec) || fs::path(path).extension() == ".zip";
}

// Prints the per-scene summary; problems one line each on stderr. Exit code 0 or 2.
int report_check(const CheckReport& r) {
  std::printf("%-32s %8s %8s %8s\n", "scene", "expected", "valid", "problems");
  for (const CheckSceneSummary& s : r.scenes)
    std::printf("%-32s %8d %8d %8d\n", s.scene.c_str(), s.expected, s.found, s.problems);
  for (const CheckProblem& p : r.problems) std::fprintf(stderr, "error: %s: %s\n", r.archive.c_str(), p.line().c_str());
  if (r.ok()) {
    std::printf("%s: %zu scenes, %zu images: OK\n", r.archive.c_str(), r.scenes.size(), r.images);
    return 0;
  }
  std::printf("%s: %zu problems: not a valid submission\n", r.archive.c_str(), r.problems.size());
  return 2;
}

ViewScore mean_row(const std::string& name, const Scores& s) {
  ViewScore v;
  v.name = name;
  v.psnr = s.mean_psnr;
  v.ssim = s.mean_ssim;
  v.masked_psnr = s.mean_masked_psnr;
  v.masked_ssim = s.mean_masked_ssim;
  v.lpips = s.mean_lpips;
  v.box_ssim = s.mean_box_ssim;
  v.box_lpips = s.mean_box_lpips;
  return v;
}

void print_scores(const ScoreReport& r) {
  if (log_level() == LogLevel::Debug)
    for (const SceneScores& s : r.scenes) std::fputs(spare_scores_table(s.scores, s.scene).c_str(), stdout);
  Scores rows = r.all;  // its means: over every image
  rows.views.clear();
  for (const SceneScores& s : r.scenes) rows.views.push_back(mean_row(s.scene, s.scores));
  std::fputs(spare_scores_table(rows, "scene (mean of its views)").c_str(), stdout);
  if (r.by_dataset.size() > 1) {
    Scores ds = r.all;
    ds.views.clear();
    for (const auto& [name, s] : r.by_dataset) ds.views.push_back(mean_row(name, s));
    std::fputs(spare_scores_table(ds, "dataset").c_str(), stdout);
  }
  for (const std::string& s : r.skipped) log_warn("score: no ground truth for scene " + s + "; not scored");
}

ScoreOptions score_options(const SubmitArgs& a, const std::string& ground_truth,
                           const std::map<std::string, SpareSplit>& split, std::vector<std::string> scenes) {
  ScoreOptions o;
  o.ground_truth = ground_truth;
  o.lpips = !a.no_lpips;
  o.lpips_weights = a.lpips;
  o.scenes = std::move(scenes);
  if (o.lpips) (void)Lpips::load(o.lpips_weights);  // a missing or bad file fails before any work
  std::error_code ec;
  if (!fs::is_directory(ground_truth, ec)) throw_bad_input(ground_truth, "no such ground-truth folder (--gt)");
  if (count_ground_truth(ground_truth, split, o.scenes) == 0)
    throw_bad_input(ground_truth, "holds no test-view image of the selected scenes to score against (the benchmark's "
                                  "test sets hide them; give --gt with the kept-aside images)");
  return o;
}

void write_scores(const ScoreReport& r, const std::string& path) {
  write_json_file(path, r.json());
  std::printf("scores -> %s\n", path.c_str());
}

int run_check(const SubmitArgs& a) {
  if (a.inputs.size() != 1) throw_bad_input("--check", "expects one archive");
  const auto split = read_spare_split(a.split);
  CheckOptions o;
  o.scenes = select_scenes(split, selection_of(a), a.split);
  if (!a.size.empty()) parse_size(a.size, o.width, o.height);
  return report_check(check_submission(a.inputs[0], split, o));
}

int run_merge(const SubmitArgs& a) {
  if (a.output.empty()) throw_bad_input("--merge", "needs -o MERGED.zip");
  const auto split = read_spare_split(a.split);
  CheckOptions o;
  o.scenes = select_scenes(split, selection_of(a), a.split);
  if (!a.size.empty()) parse_size(a.size, o.width, o.height);
  const CheckReport r = merge_submissions(a.inputs, a.output, split, o);
  const int code = report_check(r);
  if (code != 0) std::printf("%s: not written\n", a.output.c_str());
  return code;
}

int run_score_archive(const SubmitArgs& a) {
  if (a.inputs.size() != 1) throw_bad_input("--score", "expects one archive (or DATA_ROOT)");
  if (a.ground_truth.empty()) throw_bad_input("--score", "scoring an archive needs --gt GROUND_TRUTH_ROOT");
  const auto split = read_spare_split(a.split);
  const ScoreOptions o = score_options(a, a.ground_truth, split, select_scenes(split, selection_of(a), a.split));
  const ScoreReport r = score_submission(a.inputs[0], split, o);
  print_scores(r);
  if (!a.output.empty()) write_scores(r, a.output);
  return 0;
}

}  // namespace

int run_submit(const SubmitArgs& a) {
  if (int(a.check) + int(a.merge) + int(a.score && is_archive(a.inputs.at(0))) > 1)
    throw_bad_input("submit", "--check, --merge and --score ARCHIVE are separate modes: give one");
  if (a.check) return run_check(a);
  if (a.merge) return run_merge(a);
  if (a.score && is_archive(a.inputs.at(0))) return run_score_archive(a);

  // Build: DATA_ROOT -> archive (and scores with --score).
  if (a.inputs.size() != 1) throw_bad_input("submit", "expects one DATA_ROOT (several inputs only with --merge)");
  if (a.output.empty()) throw_bad_input("--output", "is required: the archive (.zip) or a folder");
  SubmissionConfig c;
  c.data_root = a.inputs[0];
  c.split_file = a.split;
  c.views = a.views;
  // -o: the archive (NAME.zip), or a folder for it (an existing one, a name ending in '/',
  // or one without an extension); anything else is likely a typo.
  const fs::path out_path(a.output);
  std::error_code ec;
  const bool folder = out_path.extension() != ".zip";
  if (folder && !fs::is_directory(out_path, ec) && a.output.back() != '/' && out_path.has_extension())
    throw_bad_input(a.output, "expected an archive name ending in .zip, or a folder for <folder>/submission.zip");
  c.archive = folder ? (fs::path(a.output) / "submission.zip").string() : a.output;
  if (folder) fs::create_directories(a.output);
  c.work_dir = a.work;
  c.calibration = a.calibration;
  c.selection = selection_of(a);
  c.dataset.downscale = a.downscale;
  c.dataset.resolution = a.resolution;
  c.recon = a.config;
  if (!a.background.empty()) c.recon.background = parse_background(a.background, "--background");
  parse_size(a.size, c.width, c.height);
  c.settings = a.settings;

  std::unique_ptr<ScoreOptions> scoring;
  const auto split = read_spare_split(a.split);
  if (a.score)
    scoring = std::make_unique<ScoreOptions>(score_options(a, a.ground_truth.empty() ? c.data_root : a.ground_truth,
                                                           split, select_scenes(split, c.selection, a.split)));
  SubmitProgress progress;
  const SubmissionResult r = make_submission(c, progress);
  int reused = 0;
  for (const SceneReport& s : r.scenes) reused += s.reused;
  std::printf("%s: scenes: %zu (%zu reconstructed, %d reused), %zu images at %dx%d, checked: OK, %s\n", r.archive.c_str(),
              r.scenes.size(), r.scenes.size() - size_t(reused), reused, r.check.images, r.width, r.height,
              duration(r.seconds).c_str());
  std::printf("work folder %s (finished scenes; delete it when the submission is accepted)\n", r.work_dir.c_str());
  if (scoring) {
    const ScoreReport s = score_submission(r.archive, split, *scoring);
    print_scores(s);
    write_scores(s, folder ? (fs::path(a.output) / "scores.json").string()
                           : fs::path(r.archive).replace_extension(".scores.json").string());
  }
  return 0;
}

}  // namespace sp::cli
