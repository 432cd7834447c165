#include "tools/sparsplat/prior_refinement_hook.h"

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "engine/core/error.h"
#include "engine/core/log.h"
#include "engine/eval/metrics.h"
#include "engine/io/image_io.h"

namespace sp::cli {
namespace fs = std::filesystem;

namespace {

// render | refined | mask, for looking at what the prior fed back.
Image strip(const prior::RefinedView& v) {
  const int w = v.render.width, h = v.render.height;
  Image out(3 * w, h, 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) {
        out.at(x, y, c) = v.render.at(x, y, c);
        out.at(x + w, y, c) = v.refined.at(x, y, c);
        out.at(x + 2 * w, y, c) = v.mask.at(x, y, 0);
      }
  return out;
}

}  // namespace

PriorRefinementHook::PriorRefinementHook(const PriorReconArgs& args, const Dataset& data, long iterations,
                                         glm::vec3 background, uint64_t seed, const std::string& out_dir)
    : args_(args), data_(data), iterations_(iterations), background_(background), out_dir_(out_dir) {
  prior::init_torch_threads(0);
  denoiser_ = prior::load_denoiser(args.model);
  options_.start_iteration = args.start >= 0 ? args.start : std::max(1L, iterations / 2);
  options_.every = args.every > 0 ? args.every : std::max(1L, iterations / 4);
  options_.views = args.views;
  options_.pose_fraction = args.pose_fraction;
  options_.sample_probability = args.sample_probability;
  options_.loss_weight = args.loss_weight;
  options_.alpha_threshold = args.alpha_threshold;
  options_.min_change = args.min_change;
  options_.strength_start = args.strength_start;
  options_.strength_end = args.strength_end;
  options_.sampler.steps = args.steps;
  options_.sampler.one_step = args.one_step;
  options_.sampler.cache_threshold = args.cache_threshold;
  options_.sampler.samples = args.samples;
  options_.seed = seed;
  for (int id : data.train_ids) train_cameras_.push_back(data.cameras[size_t(id)]);
  const std::string targets = args.targets == "auto" ? (data.test_ids.empty() ? "interpolated" : "test") : args.targets;
  if (targets == "test") {
    if (data.test_ids.empty()) throw_bad_input("--prior-targets test", "the dataset has no test views");
    for (int id : data.test_ids) options_.target_poses.push_back(data.cameras[size_t(id)]);
  } else if (train_cameras_.size() < 2) {
    throw_bad_input("--prior", "interpolated pseudo views need at least two train views (or --prior-targets test)");
  }
  log_info("prior: " + denoiser_->name() + ", rounds from iteration " + std::to_string(options_.start_iteration) +
           " every " + std::to_string(options_.every) + ", " + targets + " pseudo poses");
}

PriorRefinementHook::~PriorRefinementHook() = default;

void PriorRefinementHook::after_step(Trainer& trainer) {
  const long it = trainer.iteration();
  if (!prior::refinement_due(options_, it) || it >= iterations_) return;
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
  const auto views = prior::refine_pseudo_views(*denoiser_, trainer.rasterizer(), params_of(trainer.model()), ro,
                                                train_cameras_, images, options_, it, iterations_, round_);
  std::vector<PseudoTarget> targets;
  const fs::path dir = fs::path(out_dir_) / "prior" / ("round_" + std::to_string(round_));
  fs::create_directories(dir);
  for (const auto& v : views) {
    save_png((dir / png_name(v.camera.name)).string(), strip(v));
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

Scores PriorRefinementHook::final_pass(Rasterizer& rasterizer, const GaussianModel& model, const RenderOptions& ro) {
  if (args_.final_pass <= 0) return {};
  prior::SamplerOptions so = options_.sampler;
  so.strength = args_.final_pass;
  const fs::path dir = fs::path(out_dir_) / "test_prior2d" / "renders";
  fs::create_directories(dir);
  std::vector<ViewScore> scores;
  for (int id : data_.test_ids) {
    const Camera& cam = data_.cameras[size_t(id)];
    const Image render = rasterizer.forward(cam, params_of(model), ro).color;
    const int near = data_.train_ids[size_t(prior::nearest_camera(cam, train_cameras_))];
    Image reference = data_.image(near);
    if (reference.width != render.width || reference.height != render.height) reference = Image();
    so.seed = options_.seed + uint64_t(id);
    const Image refined = prior::refine_image(*denoiser_, render, reference.empty() ? nullptr : &reference, so);
    const Image gt = data_.image(id);
    ViewScore s{cam.name, psnr(refined, gt), ssim(refined, gt)};
    if (const Image mask = data_.mask(id); !mask.empty()) {
      try {
        s.masked_psnr = psnr(refined, gt, &mask);
      } catch (const Error&) {
      }
    }
    scores.push_back(s);
    save_png((dir / png_name(cam.name)).string(), refined);
  }
  return summarize(std::move(scores));
}

}  // namespace sp::cli
