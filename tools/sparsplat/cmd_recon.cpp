// sparsplat recon: dataset -> trained Gaussians, test-view renders and metrics, through the
// engine's pipeline (engine/pipeline/recon.h). This file only shows its progress.
#include <cstdio>
#include <filesystem>
#include <memory>

#include "engine/core/error.h"
#include "engine/core/log.h"
#include "engine/core/memory_budget.h"
#include "engine/core/progress.h"
#include "engine/core/stop_signal.h"
#include "engine/pipeline/recon.h"
#include "tools/sparsplat/common.h"

namespace sp::cli {

namespace {

// The terminal face of the pipeline: a progress line per stage that counts something, and
// one log line per finished or skipped stage.
class ProgressObserver final : public ReconObserver {
 public:
  void stage_started(ReconStage stage, const std::string& detail, long total) override {
    if (total <= 0) return;
    std::string label = stage_name(stage);
    if (stage == ReconStage::Train) label += " [" + detail + "]";  // the device
    line_ = std::make_unique<ProgressLine>(label, total, 10.0);
  }
  void progress(ReconStage, long done, const std::string& detail) override {
    if (line_) line_->update(done, detail);
  }
  void stage_finished(const StageReport& report) override {
    if (line_) {
      line_->finish(report.detail);
      line_.reset();
    } else if (!report.ran) {
      log_debug(std::string(stage_name(report.stage)) + ": skipped (" + report.detail + ")");
    }
  }

 private:
  std::unique_ptr<ProgressLine> line_;
};

// Where everything went, and the commands that look at it.
void print_outputs(const std::string& dir) {
  namespace fs = std::filesystem;
  const fs::path out(dir);
  const std::pair<const char*, const char*> items[] = {
      {"point_cloud.ply", "the model (INRIA PLY: SuperSplat, the INRIA viewers, sparsplat-view)"},
      {"cameras.json", "every camera of the dataset (INRIA layout)"},
      {"split.json", "the dataset, protocol and train/test views"},
      {"metrics.json", "per-view and mean scores, timing, options, training curves"},
      {"config.json", "every option of this run: sparsplat recon --config it repeats the run"},
      {"report.html", "the run at a glance: scores, curves, test images (any browser, offline)"},
      {"test/side_by_side", "ground truth | render | error x4 per test view"},
      {"checkpoints/last.bin", "for --resume (auto: the same command continues a stopped run)"}};
  std::printf("outputs in %s:\n", dir.c_str());
  for (const auto& [name, what] : items)
    if (fs::exists(out / name)) std::printf("  %-22s %s\n", name, what);
  std::printf("next: sparsplat-view %s --cameras %s\n      sparsplat info %s\n", (out / "point_cloud.ply").string().c_str(),
              (out / "cameras.json").string().c_str(), dir.c_str());
}

}  // namespace

int run_recon(const ReconArgs& args) {
  ReconConfig config = args.config;
  if (!args.background.empty()) config.background = parse_background(args.background, "--background");
  if (config.output.empty()) throw_bad_input("--output", "is empty");
  DatasetArgs data_args = args.data;
  if (!args.max_memory.empty()) {
    config.max_memory = parse_byte_size(args.max_memory, "--max-memory");
    set_memory_budget(config.max_memory);  // the dataset's files are held to it too
    data_args.cache_bytes = config.max_memory / 2;  // the pipeline checks the views fit in it
  }
  const Dataset data = load_dataset(data_args);
  // Ctrl-C / kill: the pipeline checkpoints and ends with Interrupted (main.cpp: exit 128 + signal).
  install_stop_signal_handlers();
  ProgressObserver observer;
  const ReconResult r = run_recon(data, config, observer);

  if (!r.scores.views.empty()) {
    std::fputs(scores_table(r.scores).c_str(), stdout);
    const Scores& u = r.initial_scores;
    std::printf("untrained model: PSNR %.3f  SSIM %.4f", u.mean_psnr, u.mean_ssim);
    if (u.mean_masked_psnr >= 0) std::printf("  PSNR-M %.3f", u.mean_masked_psnr);
    std::printf("\n");
  }
  std::printf("%ld iterations in %.1f s (%.3f s/iteration) on %s, %zu Gaussians -> %s\n",
              r.iterations_this_run, r.train_seconds,
              r.iterations_this_run > 0 ? r.train_seconds / double(r.iterations_this_run) : 0.0, r.device.c_str(),
              r.model.size(), (std::filesystem::path(config.output) / "point_cloud.ply").string().c_str());
  if (!r.train_breakdown.empty() && r.train_seconds > 0) {
    std::string line = "training time by part:";
    for (const auto& [part, seconds] : r.train_breakdown) {
      char item[96];
      std::snprintf(item, sizeof item, " %s %.1f s (%.0f%%),", part.c_str(), seconds, 100.0 * seconds / r.train_seconds);
      line += item;
    }
    line.pop_back();
    std::printf("%s\n", line.c_str());
  }
  print_outputs(config.output);
  return 0;
}

}  // namespace sp::cli
