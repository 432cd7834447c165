// sparsplat recon: dataset -> trained Gaussians, test-view renders and metrics.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>

#include <nlohmann/json.hpp>

#include "engine/core/error.h"
#include "engine/core/log.h"
#include "engine/core/parallel.h"
#include "engine/core/progress.h"
#include "engine/eval/metrics.h"
#include "engine/io/cameras_json.h"
#include "engine/io/image_io.h"
#include "engine/scene/initialization.h"
#include "engine/scene/model_ply.h"
#include "engine/scene/plane_sweep.h"
#include "engine/train/trainer.h"
#include "tools/sparsplat/common.h"
#include "tools/sparsplat/device.h"
#include "tools/sparsplat/prior_refinement_hook.h"
#include "tools/sparsplat/recon_regularizers.h"
#if SPARSPLAT_HAS_CUDA
#include "cuda/cuda_rasterizer.h"
#include "cuda/cuda_trainer.h"
#endif

namespace sp::cli {
namespace fs = std::filesystem;

namespace {

// Ground truth | render | error (|difference| x 4), one strip per test view.
Image side_by_side(const Image& gt, const Image& render) {
  Image out(gt.width * 3, gt.height, 3);
  for (int y = 0; y < gt.height; ++y)
    for (int x = 0; x < gt.width; ++x)
      for (int c = 0; c < 3; ++c) {
        out.at(x, y, c) = gt.at(x, y, c);
        out.at(x + gt.width, y, c) = render.at(x, y, c);
        out.at(x + 2 * gt.width, y, c) = std::min(1.0f, 4.0f * std::abs(render.at(x, y, c) - gt.at(x, y, c)));
      }
  return out;
}

std::vector<ViewScore> render_and_score(Rasterizer& rasterizer, const Dataset& data, const GaussianModel& model,
                                        const RenderOptions& ro, const std::string& out_dir) {
  std::vector<ViewScore> scores;
  if (!out_dir.empty())
    for (const char* sub : {"renders", "gt", "side_by_side"}) fs::create_directories(fs::path(out_dir) / sub);
  for (int id : data.test_ids) {
    const Camera& cam = data.cameras[size_t(id)];
    const RenderOutput out = rasterizer.forward(cam, params_of(model), ro);
    const Image gt = data.image(id);
    ViewScore score{cam.name, psnr(out.color, gt), ssim(out.color, gt)};
    if (const Image mask = data.mask(id); !mask.empty()) {
      try {
        // As the published DTU tables (DNGaussian / CoR-GS metrics_dtu.py): white outside
        // the object, PSNR over the fully-inside pixels, SSIM over the frame.
        const ObjectMaskedScores m = object_masked_scores(out.color, gt, mask);
        score.masked_psnr = m.psnr;
        score.masked_ssim = m.ssim;
      } catch (const Error&) {
        // an empty mask (the object is out of view): no masked score for this view
      }
    }
    scores.push_back(score);
    if (!out_dir.empty()) {
      const std::string name = png_name(cam.name);
      save_png((fs::path(out_dir) / "renders" / name).string(), out.color);
      save_png((fs::path(out_dir) / "gt" / name).string(), gt);
      save_png((fs::path(out_dir) / "side_by_side" / name).string(), side_by_side(gt, out.color));
    }
  }
  return scores;
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

// What a finished training run hands to finish_recon.
struct TrainedRun {
  const GaussianModel& model;
  long iterations = 0, trained = 0;  // total, and in this run (after --resume)
  double train_seconds = 0;
  int sh_degree = 0;
  std::string device;  // "cpu (N threads)" or "cuda: <name>"
};

// The outputs of every recon, whichever device trained: point_cloud.ply (+ the language
// stage), cameras.json, test renders and metrics.json, and the summary lines. `add_extra`
// may add fields to metrics.json (the prior's).
int finish_recon(const ReconArgs& args, const Dataset& data, const TrainedRun& run, Rasterizer& rasterizer,
                 RenderOptions eval_ro, const Scores& initial_scores, const std::string& init_used,
                 const std::string& regularizers, std::chrono::steady_clock::time_point t0,
                 const std::function<void(nlohmann::ordered_json&, const RenderOptions&)>& add_extra = {}) {
  const fs::path out(args.output);
  write_gaussian_ply((out / "point_cloud.ply").string(), run.model);
  if (!args.language.empty()) {  // language stage on the final model (docs/language.md)
    LanguageArgs la;
    la.model = la.output = (out / "point_cloud.ply").string();
    la.data = args.data;
    la.features = args.language;
    la.iterations = args.language_iterations;
    la.seed = args.seed;
    run_language(la);
  }
  write_cameras_json((out / "cameras.json").string(), data.cameras);

  Scores scores;
  eval_ro.sh_degree = run.sh_degree;
  if (!args.skip_test_renders && !data.test_ids.empty())
    scores = summarize(render_and_score(rasterizer, data, run.model, eval_ro, (out / "test").string()));

  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  nlohmann::ordered_json extra_run = {
      {"iterations", run.iterations},
      {"iterations_this_run", run.trained},
      {"train_seconds", run.train_seconds},
      {"seconds_per_iteration", run.trained > 0 ? run.train_seconds / double(run.trained) : 0.0},
      {"wall_seconds", wall},
      {"gaussians", run.model.size()},
      {"sh_degree", run.sh_degree},
      {"device", run.device},
      {"threads", thread_count()},
      {"init", init_used},
      {"regularizers", regularizers},
      {"seed", args.seed},
      {"resolution", {data.cameras[0].width, data.cameras[0].height}},
      {"train_views", data.train_ids.size()},
      {"test_views", data.test_ids.size()},
      {"initial_mean", {{"psnr", initial_scores.mean_psnr}, {"ssim", initial_scores.mean_ssim}}}};
  if (initial_scores.mean_masked_psnr >= 0) extra_run["initial_mean"]["masked_psnr"] = initial_scores.mean_masked_psnr;
  if (add_extra) add_extra(extra_run, eval_ro);
  std::vector<std::pair<std::string, std::string>> extra;
  for (auto it = extra_run.begin(); it != extra_run.end(); ++it) extra.emplace_back(it.key(), it.value().dump());
  write_json_file((out / "metrics.json").string(), scores_json(scores, extra));

  if (!scores.views.empty()) {
    print_scores(scores);
    std::printf("untrained model: PSNR %.3f  SSIM %.4f", initial_scores.mean_psnr, initial_scores.mean_ssim);
    if (initial_scores.mean_masked_psnr >= 0) std::printf("  PSNR-M %.3f", initial_scores.mean_masked_psnr);
    std::printf("\n");
  }
  std::printf("%ld iterations in %.1f s (%.3f s/iteration) on %s, %zu Gaussians -> %s\n", run.trained,
              run.train_seconds, run.trained > 0 ? run.train_seconds / double(run.trained) : 0.0, run.device.c_str(),
              run.model.size(), (out / "point_cloud.ply").string().c_str());
  return 0;
}

#if SPARSPLAT_HAS_CUDA
// recon --device cuda (docs/cuda.md): the GPU-resident trainer, then the same outputs as
// the CPU path except the final checkpoint: the CUDA trainer writes none.
int recon_on_cuda(const ReconArgs& args, const Dataset& data, GaussianModel initial, const TrainOptions& to,
                  Rasterizer& rasterizer, const RenderOptions& eval_ro, const Scores& initial_scores,
                  const std::string& init_used, const std::string& regularizers,
                  std::chrono::steady_clock::time_point t0) {
  CudaTrainer trainer(data, std::move(initial), to);
  ProgressLine progress("train [cuda]", to.iterations);
  const auto train_start = std::chrono::steady_clock::now();
  trainer.run([&](const StepStats& s) {
    char detail[160];
    std::snprintf(detail, sizeof detail, "loss %.4f PSNR %.2f | %zu Gaussians", s.loss_ema, s.psnr, s.gaussians);
    progress.update(s.iteration, detail);
  });
  const double train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - train_start).count();
  progress.finish(std::to_string(trainer.model().size()) + " Gaussians");
  log_info("no checkpoint written: the CUDA trainer does not write checkpoints (use --device cpu for them)");
  const TrainedRun run{trainer.model(), trainer.iteration(), trainer.iteration(), train_seconds,
                       trainer.active_sh_degree(), "cuda: " + cuda_device_description()};
  return finish_recon(args, data, run, rasterizer, eval_ro, initial_scores, init_used, regularizers, t0);
}
#endif

}  // namespace

int run_recon(const ReconArgs& args) {
  const auto t0 = std::chrono::steady_clock::now();
  glm::vec3 background(0.0f);
  if (!args.background.empty()) background = parse_background(args.background, "--background");
  if (args.output.empty()) throw_bad_input("--output", "is empty");
  if (fs::exists(args.output) && !fs::is_directory(args.output))
    throw_bad_input(args.output, "exists and is not a folder");
  if (!args.resume.empty() && !fs::is_regular_file(args.resume)) throw_bad_input(args.resume, "no such checkpoint file");
  if (!args.prior.model.empty() && !fs::is_regular_file(args.prior.model))
    throw_bad_input(args.prior.model, "no such prior model file");
  if (!args.language.empty() && !fs::is_directory(args.language))
    throw_bad_input(args.language, "language feature folder not found (LangSplat's language_features/)");

  Dataset data = load_dataset(args.data);
  // Transparent (RGBA) photos were composited on white unless --black-background: the
  // Gaussians must be rendered over the same colour.
  if (args.background.empty() && data.format == "blender" && !args.data.black_background_for_rgba)
    background = glm::vec3(1.0f);
  // Decode every image the run will use now, so a corrupt file fails before any output.
  for (int id : data.train_ids) (void)data.image(id);
  if (!args.skip_test_renders)
    for (int id : data.test_ids) (void)data.image(id);
  log_info("dataset: " + data.format + ", " + std::to_string(data.size()) + " views at " +
           std::to_string(data.cameras[0].width) + "x" + std::to_string(data.cameras[0].height) + ", " +
           std::to_string(data.train_ids.size()) + " train / " + std::to_string(data.test_ids.size()) + " test (" +
           data.protocol + ")");

  InitOptions init;
  init.sh_degree = args.sh_degree;
  init.random_points = args.init_points;
  init.seed = args.seed;
  std::string init_used = args.init;
  // Sparse views: SfM from a handful of photos is thin or absent; plane-sweep stereo over
  // the train views gives a dense start (docs/sparse_view.md). A substantial SfM cloud seen
  // by the train views is still the better start (the demo scene: 19.8 dB from its points,
  // 15.5 dB from plane sweep), so it wins when there is one.
  constexpr size_t kDenseSfmPoints = 1000;
  const bool sparse_views = data.train_ids.size() >= 2 && data.train_ids.size() <= 9;
  if (init_used == "auto")
    init_used = data.points.size() >= kDenseSfmPoints ? "sfm"
                : sparse_views                         ? "mvs"
                : data.points.size() >= 4              ? "sfm"
                                                       : "random";
  if (init_used == "sfm" && data.points.size() < 4)
    throw_bad_input(data.root, data.points_from_train_views_only || args.data.train_views > 0
                                   ? "no SfM points seen by two train views; use --init random"
                                   : "the dataset has no SfM points; use --init random");
  PointCloud init_points;
  if (init_used == "mvs") {
    PlaneSweepOptions mvs;
    mvs.seed = args.seed;
    init_points = mvs_points(data, mvs);
    if (init_points.size() < 4) {
      log_warn("multi-view stereo found too few consistent points; falling back to random initialization");
      init_used = "random";
    }
  }
  if (init_used == "sfm") init_points = data.points;
  if (init_used == "random") init_points = random_points_in_view_volume(data, init);
  GaussianModel initial = gaussians_from_points(init_points, init);
  log_info("init: " + std::to_string(initial.size()) + " Gaussians from " +
           (init_used == "sfm"   ? "SfM points"
            : init_used == "mvs" ? "plane-sweep stereo points"
                                 : "random points in the train views' frusta"));

  const fs::path out(args.output);

  auto rasterizer = make_cpu_rasterizer();
  TrainOptions to;
  // Default length: INRIA's 3000 for dense captures; 1000 under the sparse-view preset, where
  // the protocol tables were measured (docs/sparse_view.md) and a 3-view run at protocol
  // resolution stays around 10 minutes on 2 CPU cores (co-training trains two fields).
  const bool sparse_preset = args.reg.preset != "off" && !data.train_ids.empty() && data.train_ids.size() <= 9;
  to.iterations = args.iterations >= 0 ? args.iterations : (sparse_preset ? 1000 : 3000);
  to.seed = args.seed;
  to.sh_degree = args.sh_degree;
  to.background = background;
  to.random_background = args.random_background;
  to.checkpoint_interval = args.checkpoint_interval;
  to.checkpoint_dir = (out / "checkpoints").string();
  to.densify.max_gaussians = args.max_gaussians;
  if (args.no_densify) to.densify_until = 0;
  const std::string regularizers = apply_regularizer_args(args.reg, int(data.train_ids.size()), to);
  log_info("regularizers: " + regularizers);
  // --device (tools/sparsplat/device.h, docs/cuda.md): the GPU-resident trainer runs the plain
  // recipe; a run needing anything it lacks stays on the CPU (auto) or is refused (cuda).
  std::string cuda_blocker;
#if SPARSPLAT_HAS_CUDA
  cuda_blocker = cuda_trainer_unsupported(to);
#endif
  if (cuda_blocker.empty() && !args.resume.empty()) cuda_blocker = "--resume (checkpoints)";
  if (cuda_blocker.empty() && !args.prior.model.empty()) cuda_blocker = "--prior";
  const std::string device = resolve_device(args.device, "recon", cuda_blocker);
  // Only now, with every option checked, does the output folder get its first file.
  fs::create_directories(args.output);
  write_json_file((out / "split.json").string(), split_json(data));
  if (device == "cuda") rasterizer = make_rasterizer_on(device);  // test-view renders on the GPU too

  RenderOptions eval_ro;
  eval_ro.background = background;
  eval_ro.sh_degree = 0;
  Scores initial_scores;
  if (!args.skip_test_renders && !data.test_ids.empty())
    initial_scores = summarize(render_and_score(*rasterizer, data, initial, eval_ro, ""));

#if SPARSPLAT_HAS_CUDA
  if (device == "cuda")
    return recon_on_cuda(args, data, std::move(initial), to, *rasterizer, eval_ro, initial_scores, init_used,
                         regularizers, t0);
#endif
  Trainer trainer(data, std::move(initial), to, *rasterizer);
  if (!args.resume.empty()) {
    trainer.load_checkpoint(args.resume);
    log_info("resumed from " + args.resume + " at iteration " + std::to_string(trainer.iteration()));
  }
  std::unique_ptr<PriorRefinementHook> prior_hook;  // recon --prior (docs/prior.md)
  if (!args.prior.model.empty())
    prior_hook = std::make_unique<PriorRefinementHook>(args.prior, data, to.iterations, background, args.seed, args.output);
  const long first = trainer.iteration();
  ProgressLine progress("train [" + device + "]", to.iterations);
  const auto train_start = std::chrono::steady_clock::now();
  trainer.run([&](const StepStats& s) {
    char detail[160];
    std::snprintf(detail, sizeof detail, "loss %.4f PSNR %.2f | %zu Gaussians", s.loss_ema, s.psnr, s.gaussians);
    progress.update(s.iteration, detail);
    if (prior_hook) prior_hook->after_step(trainer);
  });
  const double train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - train_start).count();
  progress.finish(std::to_string(trainer.model().size()) + " Gaussians");

  trainer.save_checkpoint((fs::create_directories(out / "checkpoints"), out / "checkpoints" / "last.bin").string());
  const TrainedRun run{trainer.model(), trainer.iteration(), trainer.iteration() - first, train_seconds,
                       trainer.active_sh_degree(), "cpu"};
  return finish_recon(args, data, run, *rasterizer, eval_ro, initial_scores, init_used, regularizers, t0,
                      [&](nlohmann::ordered_json& extra_run, const RenderOptions& ro) {
                        if (!prior_hook) return;
                        extra_run["prior"] = {{"model", args.prior.model},
                                              {"rounds", prior_hook->rounds()},
                                              {"seconds", prior_hook->seconds()}};
                        if (args.skip_test_renders || data.test_ids.empty()) return;
                        const Scores refined = prior_hook->final_pass(*rasterizer, trainer.model(), ro);
                        if (!refined.views.empty())
                          extra_run["prior"]["final_pass_mean"] = {{"psnr", refined.mean_psnr},
                                                                   {"ssim", refined.mean_ssim}};
                      });
}

}  // namespace sp::cli
