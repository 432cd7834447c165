#include "engine/prior/refinement_driver.h"

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "engine/core/error.h"
#include "engine/core/log.h"
#include "engine/io/image_io.h"

namespace sp::prior {
namespace fs = std::filesystem;

namespace {

// render | refined | mask, for looking at what the prior fed back.
Image strip(const RefinedView& v) { return side_by_side({v.render, v.refined, v.mask}); }

}  // namespace

RefinementDriver::RefinementDriver(const PriorConfig& config, const Dataset& data, long iterations,
                                   glm::vec3 background, uint64_t seed, const std::string& out_dir)
    : config_(config), data_(data), iterations_(iterations), background_(background), out_dir_(out_dir) {
  init_torch_threads(0);
  denoiser_ = load_denoiser(config.model);
  options_.start_iteration = config.start >= 0 ? config.start : std::max(1L, iterations / 2);
  options_.every = config.every > 0 ? config.every : std::max(1L, iterations / 4);
  options_.views = config.views;
  options_.pose_fraction = config.pose_fraction;
  options_.sample_probability = config.sample_probability;
  options_.loss_weight = config.loss_weight;
  options_.alpha_threshold = config.alpha_threshold;
  options_.min_change = config.min_change;
  options_.strength_start = config.strength_start;
  options_.strength_end = config.strength_end;
  options_.sampler.steps = config.steps;
  options_.sampler.one_step = config.one_step;
  options_.sampler.cache_threshold = config.cache_threshold;
  options_.sampler.samples = config.samples;
  options_.seed = seed;
  for (int id : data.train_ids) train_cameras_.push_back(data.cameras[size_t(id)]);
  const std::string targets = config.targets == "auto" ? (data.test_ids.empty() ? "interpolated" : "test") : config.targets;
  if (targets == "test") {
    if (data.test_ids.empty()) throw_bad_input("--prior-targets test", "the dataset has no test views");
    for (int id : data.test_ids) options_.target_poses.push_back(data.cameras[size_t(id)]);
  } else if (train_cameras_.size() < 2) {
    throw_bad_input("--prior", "interpolated pseudo views need at least two train views (or --prior-targets test)");
  }
  log_info("prior: " + denoiser_->name() + ", rounds from iteration " + std::to_string(options_.start_iteration) +
           " every " + std::to_string(options_.every) + ", " + targets + " pseudo poses");
}

RefinementDriver::~RefinementDriver() = default;

void RefinementDriver::after_step(TrainingBackend& trainer) {
  const long it = trainer.iteration();
  if (!refinement_due(options_, it) || it >= iterations_) return;
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<const Image*> images;
  std::vector<std::shared_ptr<const Image>> keep;
  for (int id : data_.train_ids) {
    keep.push_back(data_.image_ptr(id));
    images.push_back(keep.back().get());
  }
  RenderOptions ro;
  ro.background = background_;
  ro.sh_degree = trainer.active_sh_degree();
  const auto views = refine_pseudo_views(*denoiser_, trainer.rasterizer(), params_of(trainer.model()), ro,
                                         train_cameras_, images, options_, it, iterations_, round_);
  std::vector<PseudoTarget> targets;
  const fs::path dir = fs::path(out_dir_) / "prior" / ("round_" + std::to_string(round_));
  if (!out_dir_.empty()) fs::create_directories(dir);
  for (const auto& v : views) {
    if (!out_dir_.empty()) save_png((dir / render_file_name(v.camera.name)).string(), strip(v));
    targets.push_back({v.camera, v.refined, v.mask});
  }
  PseudoTargetOptions po;
  po.sample_probability = options_.sample_probability;
  po.loss_weight = options_.loss_weight;
  trainer.set_pseudo_targets(std::move(targets), po);
  ++round_;
  seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  log_debug("prior: round " + std::to_string(round_) + " at iteration " + std::to_string(it));
}

Scores RefinementDriver::final_pass(Rasterizer& rasterizer, const GaussianModel& model, const RenderOptions& ro) {
  if (config_.final_pass <= 0) return {};
  SamplerOptions so = options_.sampler;
  so.strength = config_.final_pass;
  const fs::path dir = fs::path(out_dir_) / "test_prior2d" / "renders";
  if (!out_dir_.empty()) fs::create_directories(dir);
  std::vector<ViewScore> scores;
  for (int id : data_.test_ids) {
    const Camera& cam = data_.cameras[size_t(id)];
    const Image render = rasterizer.forward(cam, params_of(model), ro).color;
    const int near = data_.train_ids[size_t(nearest_camera(cam, train_cameras_))];
    Image reference = data_.image(near);
    if (reference.width != render.width || reference.height != render.height) reference = Image();
    so.seed = options_.seed + uint64_t(id);
    const Image refined = refine_image(*denoiser_, render, reference.empty() ? nullptr : &reference, so);
    // Scored as the test renders are (engine/eval/scores.h), masked scores included.
    const ViewScore s = score_view(cam.name, refined, data_.image(id), data_.mask(id));
    scores.push_back(s);
    if (!out_dir_.empty()) save_png((dir / render_file_name(cam.name)).string(), refined);
  }
  return summarize(std::move(scores));
}

}  // namespace sp::prior
