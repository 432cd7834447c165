#include "engine/pipeline/recon.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "engine/core/atomic_file.h"
#include "engine/core/error.h"
#include "engine/core/memory_budget.h"
#include "engine/core/output_lock.h"
#include "engine/core/parallel.h"
#include "engine/core/stop_signal.h"
#include "engine/eval/metrics.h"
#include "engine/io/cameras_json.h"
#include "engine/io/gaussian_ply.h"
#include "engine/io/image_io.h"
#include "engine/language/language_pipeline.h"
#include "engine/pipeline/devices.h"
#include "engine/pipeline/run_report.h"
#include "engine/train/appearance_fit.h"
#include "engine/train/appearance_rule.h"
#include "engine/train/trainer.h"  // checkpoint fingerprints

namespace sp {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const char* stage_name(ReconStage stage) {
  switch (stage) {
    case ReconStage::Initialize: return "initialize";
    case ReconStage::Train: return "train";
    case ReconStage::Language: return "language";
    case ReconStage::Evaluate: return "evaluate";
    case ReconStage::Save: return "save";
  }
  return "?";
}

namespace {

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// {"render": 41.2, "loss": 9.0, ...}: seconds per part, in the order they ran.
nlohmann::ordered_json breakdown_json(const std::vector<std::pair<std::string, double>>& parts) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& [name, seconds] : parts) j[name] = seconds;
  return j;
}

// Tells the observer and keeps the report: every stage passes through here once, ran or not.
class StageLog {
 public:
  StageLog(ReconObserver& observer, std::vector<StageReport>& reports) : observer_(observer), reports_(reports) {}
  void start(ReconStage stage, const std::string& detail, long total = 0) {
    stage_ = stage;
    start_ = Clock::now();
    observer_.stage_started(stage, detail, total);
  }
  void finish(const std::string& detail) { report(stage_, true, detail, seconds_since(start_)); }
  void skip(ReconStage stage, const std::string& why) { report(stage, false, why, 0); }

 private:
  void report(ReconStage stage, bool ran, const std::string& detail, double seconds) {
    reports_.push_back({stage, ran, detail, seconds});
    observer_.stage_finished(reports_.back());
  }
  ReconObserver& observer_;
  std::vector<StageReport>& reports_;
  ReconStage stage_ = ReconStage::Initialize;
  Clock::time_point start_;
};

// Renders and scores `data`'s test views; with `out_dir`, writes renders/, gt/ and
// side_by_side/ (ground truth | render | error x 4) there.
// With `report`, also keeps each side-by-side as a JPEG of at most kReportImageWidth pixels
// across for report.html.
constexpr int kReportImageWidth = 960;
Scores score_test_views(Rasterizer& rasterizer, const Dataset& data, const GaussianModel& model,
                        const RenderOptions& ro, const std::string& out_dir, ReconObserver* observer,
                        std::vector<ReportView>* report = nullptr) {
  std::vector<ViewScore> scores;
  if (!out_dir.empty())
    for (const char* sub : {"renders", "gt", "side_by_side"}) fs::create_directories(fs::path(out_dir) / sub);
  for (int id : data.test_ids) {
    const Camera& cam = data.cameras[size_t(id)];
    const Image render = rasterizer.forward(cam, params_of(model), ro).color;
    const Image gt = data.image(id);
    scores.push_back(score_view(cam.name, render, gt, data.mask(id)));
    if (!out_dir.empty()) {
      const std::string name = render_file_name(cam.name);
      save_png((fs::path(out_dir) / "renders" / name).string(), render);
      save_png((fs::path(out_dir) / "gt" / name).string(), gt);
      Image error(gt.width, gt.height, 3);
      for (size_t i = 0; i < error.pixels.size(); ++i)
        error.pixels[i] = std::min(1.0f, 4.0f * std::abs(render.pixels[i] - gt.pixels[i]));
      const Image panels = side_by_side({gt, render, error});
      save_png((fs::path(out_dir) / "side_by_side" / name).string(), panels);
      if (report) {
        const int w = std::min(panels.width, kReportImageWidth);
        const Image small = resize_image(panels, w, std::max(1, int(std::lround(double(panels.height) * w / panels.width))));
        ReportView v;
        v.score = scores.back();
        v.jpeg = encode_jpeg(small, 85);
        v.link = (fs::path(fs::path(out_dir).filename()) / "side_by_side" / name).generic_string();
        report->push_back(std::move(v));
      }
    }
    if (observer) observer->progress(ReconStage::Evaluate, long(scores.size()), cam.name);
  }
  return summarize(std::move(scores));
}

std::string split_json(const Dataset& data) {
  nlohmann::ordered_json j;
  j["dataset"] = fs::absolute(data.root).lexically_normal().string();
  j["format"] = data.format;
  j["protocol"] = data.protocol;
  j["train_ids"] = data.train_ids;
  j["test_ids"] = data.test_ids;
  std::vector<std::string> train_names, test_names;
  for (int i : data.train_ids) train_names.push_back(data.cameras[size_t(i)].name);
  for (int i : data.test_ids) test_names.push_back(data.cameras[size_t(i)].name);
  j["train_images"] = train_names;
  j["test_images"] = test_names;
  return j.dump(2);
}

// The curves of report.html: the step statistics averaged over buckets of iterations (about
// kCurvePoints points whatever the run's length), and the held-out PSNR on a few test views
// at kHeldoutCheckpoints evenly spaced iterations (rendering only reads the model, so the run
// trains exactly as it would without them).
constexpr long kCurvePoints = 250;
constexpr long kHeldoutCheckpoints = 5;
class HistoryRecorder {
 public:
  HistoryRecorder(long first, long last, const Dataset& data, bool heldout, const Scores& initial)
      : first_(first), last_(last), bucket_(std::max(1L, (last - first) / kCurvePoints)), data_(data) {
    if (!heldout || data.test_ids.empty() || last <= first) return;
    subset_ = heldout_subset(data.test_ids.size());
    // Decoded once: masks are not cached by the dataset, and images may leave its cache.
    for (size_t i : subset_) {
      images_.push_back(data.image_ptr(data.test_ids[i]));
      masks_.push_back(data.mask(data.test_ids[i]));
    }
    masked_ = initial.mean_masked_psnr >= 0;
    history_.heldout_label = std::string(masked_ ? "PSNR-M" : "PSNR") + ", " + std::to_string(subset_.size()) +
                             " of " + std::to_string(data.test_ids.size()) + " test views";
    if (first == 0 && initial.views.size() == data.test_ids.size()) {
      double sum = 0;
      for (size_t i : subset_) sum += masked_ ? initial.views[i].masked_psnr : initial.views[i].psnr;
      history_.heldout_iteration.push_back(0);
      history_.heldout_psnr.push_back(sum / double(subset_.size()));
    }
  }
  void record(const StepStats& s) {
    loss_ += s.loss_ema, psnr_ += s.psnr, ++n_;
    if (s.iteration % bucket_ == 0 || s.iteration == last_) {
      history_.iteration.push_back(double(s.iteration));
      history_.loss.push_back(loss_ / n_);
      history_.train_psnr.push_back(psnr_ / n_);
      history_.gaussians.push_back(double(s.gaussians));
      loss_ = psnr_ = 0, n_ = 0;
    }
  }
  bool heldout_due(long iteration) const {
    return !subset_.empty() && scored_ < kHeldoutCheckpoints &&
           iteration >= first_ + (last_ - first_) * (scored_ + 1) / kHeldoutCheckpoints;
  }
  void score_heldout(long iteration, Rasterizer& rasterizer, const GaussianModel& model, const RenderOptions& ro) {
    double sum = 0;
    int scored = 0;
    for (size_t k = 0; k < subset_.size(); ++k) {
      const Camera& cam = data_.cameras[size_t(data_.test_ids[subset_[k]])];
      const Image render = rasterizer.forward(cam, params_of(model), ro).color;
      // score_view's PSNR or PSNR-M without its SSIMs; a view with an empty mask has no PSNR-M.
      if (!masked_) {
        sum += psnr(render, *images_[k]);
        ++scored;
      } else if (!masks_[k].empty()) {
        try {
          sum += object_masked_psnr(render, *images_[k], masks_[k]);
          ++scored;
        } catch (const Error&) {
        }
      }
    }
    history_.heldout_iteration.push_back(double(iteration));
    history_.heldout_psnr.push_back(scored > 0 ? sum / scored : 0.0);
    ++scored_;
  }
  const TrainingHistory& history() const { return history_; }

 private:
  long first_, last_, bucket_;
  const Dataset& data_;
  std::vector<size_t> subset_;
  std::vector<std::shared_ptr<const Image>> images_;  // of the subset
  std::vector<Image> masks_;
  bool masked_ = false;
  double loss_ = 0, psnr_ = 0;
  long n_ = 0;
  long scored_ = 0;  // checkpoints scored in this run (the untrained point is not one)
  TrainingHistory history_;
};

nlohmann::ordered_json history_json(const TrainingHistory& h) {
  return {{"iteration", h.iteration},     {"loss", h.loss},
          {"train_psnr", h.train_psnr},   {"gaussians", h.gaussians},
          {"heldout", {{"what", h.heldout_label}, {"iteration", h.heldout_iteration}, {"psnr", h.heldout_psnr}}}};
}

void write_json(const fs::path& path, const std::string& text) { write_text_atomic(path.string(), text + "\n"); }

// Everything a run needs is checked here, before any output exists.
void check_config(const ReconConfig& c) {
  if (!c.output.empty() && fs::exists(c.output) && !fs::is_directory(c.output))
    throw_bad_input(c.output, "exists and is not a folder");
  if (c.output.empty() && c.checkpoint_interval > 0)
    throw_bad_input("checkpoint interval", "periodic checkpoints need an output folder");
  if (c.iterations < -1) throw_bad_input("--iterations", "must be >= 0");
  if (c.sh_degree < 0 || c.sh_degree > 3) throw_bad_input("--sh-degree", "must lie in [0, 3]");
  if (c.background)
    for (int k = 0; k < 3; ++k)
      if (!((*c.background)[k] >= 0.0f && (*c.background)[k] <= 1.0f))
        throw_bad_input("--background", "values must lie in [0, 1]");
  if (c.resume == "auto" && c.output.empty()) throw_bad_input("--resume auto", "needs an output folder");
  if (!c.resume.empty() && c.resume != "auto" && !fs::is_regular_file(c.resume))
    throw_bad_input(c.resume, "no such checkpoint file");
  if (c.prior.enabled() && !fs::is_regular_file(c.prior.model))
    throw_bad_input(c.prior.model, "no such prior model file");
  if (!c.language.features.empty() && !fs::is_directory(c.language.features))
    throw_bad_input(c.language.features, "language feature folder not found (LangSplat's language_features/)");
  if (!c.language.features.empty() && c.language.iterations < 1)
    throw_bad_input("--language-iterations", "must be at least 1");
  if (c.wild.appearance != "auto" && c.wild.appearance != "on" && c.wild.appearance != "off")
    throw_bad_input("--appearance", "expected off, on or auto, found '" + c.wild.appearance + "'");
  if (c.wild.robust_loss != "on" && c.wild.robust_loss != "off")
    throw_bad_input("--robust-loss", "expected off or on, found '" + c.wild.robust_loss + "'");
}

// Columns [x0, x1) of an image.
Image columns(const Image& im, int x0, int x1) {
  if (im.empty()) return im;
  Image out(x1 - x0, im.height, im.channels);
  for (int y = 0; y < im.height; ++y)
    std::copy(im.pixels.begin() + (std::ptrdiff_t(y) * im.width + x0) * im.channels,
              im.pixels.begin() + (std::ptrdiff_t(y) * im.width + x1) * im.channels,
              out.pixels.begin() + std::ptrdiff_t(y) * out.width * out.channels);
  return out;
}

// The PhotoTourism protocol (NeRF-W): each test photo's colour code is fitted on its left
// half (geometry frozen) and the right half is scored; also the right half without a code.
void score_halves(Rasterizer& rasterizer, const Dataset& data, const GaussianModel& model, const RenderOptions& ro,
                  Scores& fitted, Scores& unfitted) {
  std::vector<ViewScore> a, b;
  for (int id : data.test_ids) {
    const Camera& cam = data.cameras[size_t(id)];
    const Image render = rasterizer.forward(cam, params_of(model), ro).color;
    const Image gt = data.image(id), mask = data.mask(id);
    const int half = render.width / 2;
    Image left(render.width, render.height, 1);
    for (int y = 0; y < render.height; ++y)
      for (int x = 0; x < half; ++x) left.pixels[size_t(y) * size_t(render.width) + size_t(x)] = 1.0f;
    const Image shown = apply_affine_colour(fit_appearance_code(render, gt, left), render, true);
    const Image gt_right = columns(gt, half, gt.width), mask_right = columns(mask, half, gt.width);
    a.push_back(score_view(cam.name, columns(shown, half, shown.width), gt_right, mask_right));
    b.push_back(score_view(cam.name, columns(render, half, render.width), gt_right, mask_right));
  }
  fitted = summarize(std::move(a));
  unfitted = summarize(std::move(b));
}

std::string number_text(double v, const char* format) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// report.html's content; the stages so far (save is the one writing it).
RunReport run_report(const Dataset& data, const ReconConfig& cfg, const ReconResult& r, const TrainingHistory& history,
                     std::vector<ReportView> views) {
  RunReport rep;
  rep.title = fs::path(data.root).lexically_normal().filename().string();
  if (rep.title.empty()) rep.title = data.root;
  std::string train, test;
  for (int id : data.train_ids) train += (train.empty() ? "" : ", ") + data.cameras[size_t(id)].name;
  rep.summary = {
      {"dataset", fs::absolute(data.root).lexically_normal().string() + " (" + data.format + ")"},
      {"protocol", data.protocol},
      {"resolution", std::to_string(data.cameras[0].width) + " x " + std::to_string(data.cameras[0].height)},
      {"train views", std::to_string(data.train_ids.size()) + ": " + train},
      {"test views", std::to_string(data.test_ids.size())},
      {"device", r.device + ", " + std::to_string(thread_count()) + " threads"},
      {"iterations", std::to_string(r.iterations) + " (" + std::to_string(r.iterations_this_run) + " in this run)"},
      {"training time", number_text(r.train_seconds, "%.1f s") +
                            (r.iterations_this_run > 0
                                 ? number_text(r.train_seconds / double(r.iterations_this_run), " (%.3f s/iteration)")
                                 : std::string())},
      {"Gaussians", std::to_string(r.model.size())},
      {"model", (fs::path(cfg.output) / "point_cloud.ply").string()}};
  if (!r.train_breakdown.empty()) {
    std::string parts;
    for (const auto& [part, seconds] : r.train_breakdown)
      parts += (parts.empty() ? "" : ", ") + part + number_text(seconds, " %.1f s");
    rep.summary.insert(rep.summary.begin() + 8, {"training time by part", parts});
  }
  rep.scores = r.scores;
  rep.initial_scores = r.initial_scores;
  rep.history = history;
  for (const StageReport& s : r.stages) rep.stages.push_back({stage_name(s.stage), s.ran, s.detail, s.seconds});
  rep.stages.push_back({"save", true, "this report, the model, metrics.json, cameras.json", 0.0});
  const bool masked = r.initial_scores.mean_masked_psnr >= 0;
  for (size_t i = 0; i < views.size(); ++i)
    if (i < r.initial_scores.views.size())
      views[i].initial_psnr = masked ? r.initial_scores.views[i].masked_psnr : r.initial_scores.views[i].psnr;
  rep.views = std::move(views);
  rep.options = {{"initialization", r.init},
                 {"regularizers", r.regularizers},
                 {"seed", std::to_string(cfg.seed)},
                 {"SH degree", std::to_string(cfg.sh_degree) + " (active at the end: " + std::to_string(r.sh_degree) + ")"},
                 {"densification", cfg.densify ? "on" : "off"},
                 {"max Gaussians", cfg.max_gaussians ? std::to_string(cfg.max_gaussians) : "the preset's budget"},
                 {"device asked", cfg.device}};
  if (!cfg.resume.empty()) rep.options.push_back({"resumed from", cfg.resume});
  if (cfg.prior.enabled()) rep.options.push_back({"diffusion prior", cfg.prior.model});
  if (!cfg.language.features.empty()) rep.options.push_back({"language features", cfg.language.features});
  // The front door's own options (config.json), those given or defaulted; null = the preset's.
  if (!cfg.options_json.empty()) {
    const auto options = nlohmann::ordered_json::parse(cfg.options_json, nullptr, false);
    if (options.is_object())
      for (auto it = options.begin(); it != options.end(); ++it)
        if (!it.value().is_null() && !(it.value().is_string() && it.value().get<std::string>().empty()) &&
            !(it.value().is_array() && it.value().empty()))
          rep.options.push_back({"--" + it.key(), it.value().is_string() ? it.value().get<std::string>() : it.value().dump()});
  }
  return rep;
}

// Temporary files of a killed run ("<name>.tmp-<pid>", engine/core/atomic_file.h) in the
// folders a run writes directly; called with the folder locked, so none is in use.
void remove_stale_run_temporaries(const fs::path& out) {
  std::vector<fs::path> dirs = {out, out / "checkpoints", out / "test" / "renders", out / "test" / "gt",
                                out / "test" / "side_by_side"};
  std::error_code ec;
  for (fs::directory_iterator it(out / "prior", ec), end; !ec && it != end; it.increment(ec))
    if (it->is_directory()) dirs.push_back(it->path());  // the prior's round_N/
  for (const fs::path& dir : dirs) remove_stale_temporaries(dir.string());
}

// The trimmed loss's final decision on each train photo (1 = treated as transient, white),
// rendered with the trained model and the photo's code: transient/<image>.png. Returns the
// share of transient pixels per photo.
nlohmann::ordered_json write_transient_masks(Rasterizer& rasterizer, const Dataset& data, const GaussianModel& model,
                                             const AppearanceCodes* codes, const RenderOptions& ro,
                                             const RobustLossOptions& robust, const fs::path& dir) {
  fs::create_directories(dir);
  nlohmann::ordered_json shares = nlohmann::json::object();
  for (size_t k = 0; k < data.train_ids.size(); ++k) {
    const int id = data.train_ids[k];
    const Camera& cam = data.cameras[size_t(id)];
    Image render = rasterizer.forward(cam, params_of(model), ro).color;
    if (codes) render = apply_affine_colour(codes->code(k), render, true);
    Image transient = transient_inlier_mask(render, data.image(id), robust);
    double sum = 0;
    for (float& v : transient.pixels) sum += (v = 1.0f - v);
    save_png((dir / render_file_name(cam.name)).string(), transient);
    shares[cam.name] = sum / double(std::max<size_t>(1, transient.pixels.size()));
  }
  return shares;
}

// --max-memory: what the decoded images need, and the Gaussian cap the rest allows.
struct MemoryPlan {
  size_t image_bytes = 0, gaussian_bytes = 0, bytes_per_gaussian = 0;
  size_t max_gaussians = 0;  // 0: no memory limit
};

// Every view the run decodes, as float RGB (the dataset's cache holds them): at most half.
MemoryPlan plan_images(const ReconConfig& cfg, const Dataset& data) {
  MemoryPlan plan;
  if (cfg.max_memory == 0) return plan;
  std::vector<int> views = data.train_ids;
  if (cfg.test_views) views.insert(views.end(), data.test_ids.begin(), data.test_ids.end());
  for (int id : views) {
    const Camera& c = data.cameras[size_t(id)];
    plan.image_bytes += size_t(c.width) * size_t(c.height) * 3 * sizeof(float);
  }
  const Camera& c0 = data.cameras[size_t(data.train_ids[0])];
  if (plan.image_bytes > cfg.max_memory / 2)
    throw_bad_input("--max-memory", std::to_string(views.size()) + " views at " + std::to_string(c0.width) + "x" +
                                        std::to_string(c0.height) + " need " + memory_size_text(plan.image_bytes) +
                                        " decoded, more than half of the " + memory_size_text(cfg.max_memory) +
                                        " allowed (use --resolution or --downscale)");
  plan.gaussian_bytes = cfg.max_memory - plan.image_bytes;
  log_info("max memory " + memory_size_text(cfg.max_memory) + ": " + memory_size_text(plan.image_bytes) + " for " +
           std::to_string(views.size()) + " decoded views");
  return plan;
}

// Per Gaussian: its floats in the model, both Adam moments, the gradients and the NaN
// rollback copy of all three (7 copies) and the densification statistics, per field trained.
// The densification cap is what fits in the rest, at 80%: a round may overshoot the cap, and
// rendering needs buffers too.
void plan_gaussians(MemoryPlan& plan, TrainOptions& to) {
  if (plan.gaussian_bytes == 0) return;
  const size_t floats = 3 + 3 + 4 + 1 + 3 * size_t((to.sh_degree + 1) * (to.sh_degree + 1));
  plan.bytes_per_gaussian = (7 * floats + 3) * sizeof(float) * (to.sparse.co_training ? 2 : 1);
  plan.max_gaussians = std::max<size_t>(1, plan.gaussian_bytes / plan.bytes_per_gaussian * 4 / 5);
  if (to.densify.max_gaussians == 0 || to.densify.max_gaussians > plan.max_gaussians) {
    to.densify.max_gaussians = plan.max_gaussians;
    to.sparse.budget_growth = 0;  // the cap is the memory's, not a preset's to raise
  }
  log_info("max memory: at most " + std::to_string(to.densify.max_gaussians) + " Gaussians");
}

}  // namespace

ReconResult run_recon(const Dataset& data, const ReconConfig& config, ReconObserver& observer) {
  const auto t0 = Clock::now();
  ScopedLogSink sink([&](LogSeverity severity, const std::string& message) { observer.log(severity, message); });
  check_config(config);
  ReconConfig cfg = config;  // with --resume auto resolved
  // One run per output folder. An existing one is locked now (a second run fails before any
  // work); a new one when it is created below.
  OutputLock lock;
  if (!cfg.output.empty() && fs::is_directory(cfg.output)) {
    lock = OutputLock(cfg.output);
    remove_stale_run_temporaries(cfg.output);
  }
  if (cfg.resume == "auto") {
    const fs::path last = fs::path(cfg.output) / "checkpoints" / "last.bin";
    cfg.resume = fs::is_regular_file(last) ? last.string() : "";
    if (cfg.resume.empty()) log_info("resume auto: no " + last.string() + ", starting fresh");
  }
  if (data.train_ids.empty()) throw_bad_input(data.root, "no train views to optimize on");
  // Transparent (RGBA) photos were composited on a colour: render the Gaussians over it.
  const glm::vec3 background =
      cfg.background ? *cfg.background : data.format == "blender" ? data.rgba_background : glm::vec3(0.0f);
  // --max-memory: every file read from now on (checkpoints, prior models, features) is held
  // to it too, and the views must fit before they are decoded.
  std::optional<ScopedMemoryBudget> budget;
  if (cfg.max_memory) budget.emplace(cfg.max_memory);
  MemoryPlan memory = plan_images(cfg, data);
  // Decode every image the run will use now, so a corrupt file fails before any output.
  for (int id : data.train_ids) (void)data.image(id);
  if (cfg.test_views)
    for (int id : data.test_ids) (void)data.image(id);
  log_info("dataset: " + data.format + ", " + std::to_string(data.size()) + " views at " +
           std::to_string(data.cameras[0].width) + "x" + std::to_string(data.cameras[0].height) + ", " +
           std::to_string(data.train_ids.size()) + " train / " + std::to_string(data.test_ids.size()) + " test (" +
           data.protocol + ")");

  ReconResult result;
  StageLog stages(observer, result.stages);
  const fs::path out(cfg.output);
  const bool writes = !cfg.output.empty();

  // Cheap checks first: a refused option must not wait for the multi-view stereo start.
  TrainOptions to;
  to.iterations = cfg.iterations >= 0 ? cfg.iterations : default_iterations(cfg.regularizers, data.train_ids.size());
  to.seed = cfg.seed;
  to.sh_degree = cfg.sh_degree;
  to.background = background;
  to.checkpoint_interval = cfg.checkpoint_interval;
  if (writes) to.checkpoint_dir = (out / "checkpoints").string();
  to.densify.max_gaussians = cfg.max_gaussians;
  to.early_stop = cfg.early_stop;
  if (!cfg.densify) to.densify_until = 0;
  std::vector<Camera> train_cameras;
  for (int id : data.train_ids) train_cameras.push_back(data.cameras[size_t(id)]);
  result.regularizers = apply_regularizers(cfg.regularizers, data.train_ids.size(),
                                           capture_traits(train_cameras, data.format == "blender"), to);
  log_info("regularizers: " + result.regularizers);
  // Photos in the wild: per-photo colour codes (on, or auto by the photos' exposure spread)
  // and the trimmed loss.
  if (cfg.wild.appearance == "auto") {
    const AppearanceSpread spread = measure_appearance_spread(data);
    to.appearance.enabled = spread.differs();
    result.appearance = std::string(to.appearance.enabled ? "on" : "off") + " (auto: " + spread.describe() + ")";
  } else {
    to.appearance.enabled = cfg.wild.appearance == "on";
    result.appearance = cfg.wild.appearance;
  }
  to.robust.enabled = cfg.wild.robust_loss == "on";
  log_info("appearance codes: " + result.appearance + "; robust loss: " + cfg.wild.robust_loss);
  if (cfg.adjust_training) cfg.adjust_training(to);
  plan_gaussians(memory, to);
  // The GPU-resident trainer runs the plain recipe; a run needing anything it lacks stays on
  // the CPU (auto) or is refused (cuda).
  // A checkpoint of another run is refused before any work (its header only).
  if (!cfg.resume.empty())
    check_fingerprint(cfg.resume, read_checkpoint_fingerprint(cfg.resume), checkpoint_fingerprint(data, to),
                      config.resume == "auto" ? TargetChange::Refuse : TargetChange::Allow);
  std::string blocker = training_unsupported("cuda", to);
  if (blocker.empty() && !cfg.resume.empty()) blocker = "--resume (checkpoints)";
  if (blocker.empty() && cfg.prior.enabled()) blocker = "--prior";
  const std::string device = resolve_device(cfg.device, DeviceUse::Train, "recon", blocker);

  // ---- initialize
  stages.start(ReconStage::Initialize, "");
  InitPolicy policy = cfg.init;
  policy.gaussians.sh_degree = cfg.sh_degree;
  policy.gaussians.seed = cfg.seed;
  InitialModel initial = choose_initial_model(data, policy);
  log_info("init: " + initial.description);
  if (const size_t need = memory.bytes_per_gaussian * initial.model.size(); need > memory.gaussian_bytes)
    throw_bad_input("--max-memory", "the initial " + std::to_string(initial.model.size()) + " Gaussians (" +
                                        initial.method + ") need " + memory_size_text(need) +
                                        " with their optimizer state; " + memory_size_text(memory.gaussian_bytes) +
                                        " is left after the images (raise --max-memory or use --init-points)");
  result.init = initial.method;

  auto rasterizer = make_rasterizer(device);
  // Only now, with every option checked, does the output folder get its first file.
  if (writes) {
    if (!lock.held()) lock = OutputLock(cfg.output);  // creates the folder
    write_json(out / "split.json", split_json(data));
    if (!cfg.options_json.empty()) write_json(out / "config.json", cfg.options_json);
  }
  RenderOptions eval_ro;
  eval_ro.background = background;
  eval_ro.sh_degree = 0;
  if (cfg.test_views && !data.test_ids.empty())
    result.initial_scores = score_test_views(*rasterizer, data, initial.model, eval_ro, "", nullptr);
  stages.finish(initial.description);

  // ---- train
  auto backend = make_training_backend(device, data, std::move(initial.model), to, *rasterizer);
  if (to.sparse.depth_prior > 0) {
    // The plane sweep's consistent depth of each train view (docs/sparse_view.md).
    if (initial.depth_maps.size() != data.train_ids.size()) {
      log_warn("depth prior: needs the plane-sweep start (--init mvs); training without it");
    } else {
      std::vector<DepthPrior> priors;
      for (size_t k = 0; k < data.train_ids.size(); ++k) {
        const Camera& c = data.cameras[size_t(data.train_ids[k])];
        DepthPrior p{data.train_ids[k], Image(c.width, c.height, 1)};
        p.depth.pixels = depth_at_size(initial.depth_maps[k], c.width, c.height);
        priors.push_back(std::move(p));
      }
      backend->set_depth_priors(std::move(priors));
    }
  }
  if (!cfg.resume.empty()) {
    backend->load_checkpoint(cfg.resume);
    log_info("resumed from " + cfg.resume + " at iteration " + std::to_string(backend->iteration()));
    if (cfg.prior.enabled())
      log_warn("--prior: its pseudo targets and rounds are not in checkpoints; the resumed run refines anew and "
               "differs from an uninterrupted one");
  }
  std::unique_ptr<prior::RefinementDriver> prior_driver;  // docs/prior.md
  if (cfg.prior.enabled())
    prior_driver = std::make_unique<prior::RefinementDriver>(cfg.prior, data, to.iterations, background, cfg.seed,
                                                             cfg.output);
  const long first = backend->iteration();
  stages.start(ReconStage::Train, device, to.iterations);
  const auto train_start = Clock::now();
  HistoryRecorder history(first, to.iterations, data, writes && cfg.test_views, result.initial_scores);
  const std::string last_checkpoint = (out / "checkpoints" / "last.bin").string();
  const auto save_last = [&]() -> bool {
    if (!writes) return false;
    if (const std::string lacking = backend->checkpoints_unsupported(); !lacking.empty()) {
      log_info("no checkpoint written: " + lacking + " (use --device cpu for them)");
      return false;
    }
    fs::create_directories(out / "checkpoints");
    backend->save_checkpoint(last_checkpoint);
    return true;
  };
  const auto on_step = [&](const StepStats& s) {
    if (s.rolled_back) return;  // the curves continue from where the run went back to
    history.record(s);
    if (history.heldout_due(s.iteration)) {
      RenderOptions ro = eval_ro;
      ro.sh_degree = backend->active_sh_degree();
      history.score_heldout(s.iteration, backend->rasterizer(), backend->model(), ro);
    }
    char detail[160];
    std::snprintf(detail, sizeof detail, "loss %.4f PSNR %.2f | %zu Gaussians", s.loss_ema, s.psnr, s.gaussians);
    observer.progress(ReconStage::Train, s.iteration, detail);
    if (prior_driver) prior_driver->after_step(*backend);
  };
  // SIGINT / SIGTERM (engine/core/stop_signal.h) is looked at between iterations: the state
  // goes to last.bin, from which --resume auto continues bit-exactly.
  while (backend->iteration() < to.iterations && backend->converged_at() < 0) {
    if (const int sig = stop_signal()) {
      const bool saved = save_last();
      throw Interrupted(sig, "interrupted by " + signal_name(sig) + " at iteration " +
                                 std::to_string(backend->iteration()) + " of " + std::to_string(to.iterations) +
                                 (saved ? ": checkpoint " + last_checkpoint + " (continue with --resume auto)"
                                        : ": nothing saved"));
    }
    on_step(backend->step());
  }
  result.train_seconds = seconds_since(train_start);
  result.train_breakdown = backend->stage_seconds();
  if (!result.train_breakdown.empty()) {
    double timed = 0;
    for (const auto& part : result.train_breakdown) timed += part.second;
    result.train_breakdown.emplace_back("other", std::max(0.0, result.train_seconds - timed));
  }
  result.iterations = backend->iteration();
  result.iterations_this_run = backend->iteration() - first;
  result.iterations_planned = to.iterations;
  result.converged_at = backend->converged_at();
  if (result.converged_at >= 0) {
    char line[200];
    std::snprintf(line, sizeof line,
                  "early stop at iteration %ld of %ld: the train loss of %ld-iteration windows came within %g%% of "
                  "the best for %d windows in a row",
                  result.converged_at, to.iterations, to.early_stop.window, 100.0 * to.early_stop.tolerance,
                  to.early_stop.patience);
    log_info(line);
  }
  result.sh_degree = backend->active_sh_degree();
  result.device = backend->device();
  const bool saved_final = save_last();
  // A stop asked for after training: the outputs are what --resume auto redoes.
  const auto stop_point = [&](const char* stage) {
    if (const int sig = stop_signal())
      throw Interrupted(sig, "interrupted by " + signal_name(sig) + " before the " + stage + " stage, training done" +
                                 (saved_final ? ": checkpoint " + last_checkpoint + " (--resume auto writes the outputs)"
                                              : ""));
  };
  result.model = backend->model();
  stages.finish(std::to_string(result.model.size()) + " Gaussians");

  // ---- language
  stop_point("language");
  std::optional<LanguageField> language;
  if (cfg.language.features.empty()) {
    stages.skip(ReconStage::Language, "no language features given");
  } else {
    stages.start(ReconStage::Language, "", cfg.language.iterations);
    LanguageTrainOptions lo;
    lo.iterations = cfg.language.iterations;
    lo.seed = cfg.seed;
    std::vector<Camera> cameras;
    for (int id : data.train_ids) cameras.push_back(data.cameras[size_t(id)]);
    // Its own checkpoint beside last.bin, on the same schedule; --resume auto continues it.
    LanguageCheckpointing ck;
    if (writes) {
      ck.path = (out / "checkpoints" / "language.bin").string();
      ck.every = cfg.checkpoint_interval;
      if (config.resume == "auto") ck.resume = "auto";
    }
    const LanguageStageResult lang = train_language_stage(
        result.model, cameras, cfg.language.features, lo,
        [&](long it, float loss) {
          char detail[64];
          std::snprintf(detail, sizeof detail, "loss %.4f", double(loss));
          observer.progress(ReconStage::Language, it, detail);
        },
        ck);
    language = lang.field;
    char detail[96];
    std::snprintf(detail, sizeof detail, "loss %.4f, %d extra channels", double(lang.loss), result.model.extra_channels);
    stages.finish(detail);
  }

  // ---- evaluate
  stop_point("evaluate");
  std::vector<ReportView> report_views;
  nlohmann::ordered_json prior_json;
  if (prior_driver)
    prior_json = {{"model", cfg.prior.model}, {"rounds", prior_driver->rounds()}, {"seconds", prior_driver->seconds()}};
  if (!cfg.test_views) {
    stages.skip(ReconStage::Evaluate, "test views not asked for");
  } else if (data.test_ids.empty()) {
    stages.skip(ReconStage::Evaluate, "the dataset has no test views");
  } else {
    stages.start(ReconStage::Evaluate, "", long(data.test_ids.size()));
    eval_ro.sh_degree = result.sh_degree;
    // The colour model: language channels do not change colour renders.
    const GaussianModel& rgb = backend->model();
    result.scores =
        score_test_views(*rasterizer, data, rgb, eval_ro, writes ? (out / "test").string() : "", &observer, &report_views);
    if (prior_driver) {
      const Scores refined = prior_driver->final_pass(*rasterizer, rgb, eval_ro);
      if (!refined.views.empty())
        prior_json["final_pass_mean"] = {{"psnr", refined.mean_psnr}, {"ssim", refined.mean_ssim}};
    }
    if (cfg.wild.half_protocol)
      score_halves(*rasterizer, data, rgb, eval_ro, result.half_scores, result.half_scores_unfitted);
    char detail[160];
    std::snprintf(detail, sizeof detail, "%zu views, mean PSNR %.3f", result.scores.views.size(), result.scores.mean_psnr);
    std::string line = detail;
    if (cfg.wild.half_protocol) {
      std::snprintf(detail, sizeof detail, "; right halves, code fitted on the left: PSNR %.3f SSIM %.4f",
                    result.half_scores.mean_psnr, result.half_scores.mean_ssim);
      line += detail;
    }
    stages.finish(line);
  }
  result.wall_seconds = seconds_since(t0);

  // ---- save
  stop_point("save");
  if (!writes) {
    stages.skip(ReconStage::Save, "no output folder given");
  } else {
    stages.start(ReconStage::Save, cfg.output);
    if (language)
      write_language_model((out / "point_cloud.ply").string(), result.model, *language);
    else
      write_gaussian_ply((out / "point_cloud.ply").string(), result.model);
    write_cameras_json((out / "cameras.json").string(), data.cameras);
    if (const AppearanceCodes* codes = backend->appearance_codes())
      write_appearance_codes((out / "appearance.json").string(), *codes);
    nlohmann::ordered_json transient;
    if (to.robust.enabled) {
      RenderOptions ro = eval_ro;
      ro.sh_degree = result.sh_degree;
      transient = write_transient_masks(*rasterizer, data, backend->model(), backend->appearance_codes(), ro, to.robust,
                                        out / "transient");
    }
    nlohmann::ordered_json run = {
        {"iterations", result.iterations},
        {"iterations_this_run", result.iterations_this_run},
        {"iterations_planned", result.iterations_planned},
        {"early_stop", cfg.early_stop.enabled ? nlohmann::ordered_json{{"stopped_at", result.converged_at >= 0
                                                                                        ? nlohmann::ordered_json(result.converged_at)
                                                                                        : nlohmann::ordered_json()},
                                                                         {"window", cfg.early_stop.window},
                                                                         {"tolerance", std::round(1e6 * double(cfg.early_stop.tolerance)) / 1e6},
                                                                         {"patience", cfg.early_stop.patience}}
                                              : nlohmann::ordered_json()},
        {"train_seconds", result.train_seconds},
        {"seconds_per_iteration",
         result.iterations_this_run > 0 ? result.train_seconds / double(result.iterations_this_run) : 0.0},
        {"wall_seconds", result.wall_seconds},
        {"train_breakdown", breakdown_json(result.train_breakdown)},
        {"gaussians", result.model.size()},
        {"sh_degree", result.sh_degree},
        {"device", result.device},
        {"threads", thread_count()},
        {"init", result.init},
        {"regularizers", result.regularizers},
        {"appearance", result.appearance},
        {"robust_loss", cfg.wild.robust_loss},
        {"seed", cfg.seed},
        {"resolution", {data.cameras[0].width, data.cameras[0].height}},
        {"train_views", data.train_ids.size()},
        {"test_views", data.test_ids.size()},
        {"initial_mean", {{"psnr", result.initial_scores.mean_psnr}, {"ssim", result.initial_scores.mean_ssim}}}};
    if (result.initial_scores.mean_masked_psnr >= 0)
      run["initial_mean"]["masked_psnr"] = result.initial_scores.mean_masked_psnr;
    if (prior_driver) run["prior"] = prior_json;
    if (!transient.is_null()) run["transient_share"] = transient;
    if (cfg.wild.half_protocol) {
      const auto mean = [](const Scores& sc) {
        nlohmann::ordered_json m = {{"psnr", sc.mean_psnr}, {"ssim", sc.mean_ssim}};
        if (sc.mean_masked_psnr >= 0) m["masked_psnr"] = sc.mean_masked_psnr;
        return m;
      };
      nlohmann::ordered_json views = nlohmann::json::array();
      for (size_t i = 0; i < result.half_scores.views.size(); ++i)
        views.push_back({{"name", result.half_scores.views[i].name},
                         {"psnr", result.half_scores.views[i].psnr},
                         {"ssim", result.half_scores.views[i].ssim}});
      run["halves"] = {{"protocol", "colour code fitted on the left half, scored on the right half"},
                       {"fitted", mean(result.half_scores)},
                       {"unfitted", mean(result.half_scores_unfitted)},
                       {"views", views}};
    }
    nlohmann::ordered_json stage_list = nlohmann::json::array();
    for (const StageReport& s : result.stages)
      stage_list.push_back({{"stage", stage_name(s.stage)}, {"ran", s.ran}, {"detail", s.detail}, {"seconds", s.seconds}});
    stage_list.push_back({{"stage", "save"}, {"ran", true}, {"detail", cfg.output}, {"seconds", 0.0}});
    run["stages"] = stage_list;
    run["history"] = history_json(history.history());
    std::vector<std::pair<std::string, std::string>> extra;
    for (auto it = run.begin(); it != run.end(); ++it) extra.emplace_back(it.key(), it.value().dump());
    write_json(out / "metrics.json", scores_json(result.scores, extra));
    write_text_atomic((out / "report.html").string(),
                      report_html(run_report(data, cfg, result, history.history(), std::move(report_views))));
    stages.finish((out / "point_cloud.ply").string());
  }

  // The promise of the header: each stage once, in order.
  if (result.stages.size() != size_t(kReconStages))
    throw_internal("run_recon: " + std::to_string(result.stages.size()) + " stage reports, expected " +
                   std::to_string(kReconStages));
  for (int i = 0; i < kReconStages; ++i)
    if (result.stages[size_t(i)].stage != ReconStage(i))
      throw_internal(std::string("run_recon: stage ") + stage_name(ReconStage(i)) + " out of order");
  return result;
}

}  // namespace sp
