// sparsplat train-prior: trains the built-in diffusion prior (engine/prior/unet.h) on pairs
// the engine makes itself, as Difix3D+ was trained: synthetic scenes (the scene file with
// objects re-placed, re-sized and re-lit per seed), each reconstructed from 3 views with
// the engine's own Trainer; every held-out view's render (typical sparse-view artifacts)
// becomes a (render -> ground truth, nearest train photo) pair, and every view also gives a
// plain denoising sample. Pairs are cached as PNGs so a resumed run skips reconstruction;
// the checkpoint (weights, Adam, the batch RNG and smoothed loss) is written every
// --checkpoint-every steps and on SIGINT / SIGTERM, and --resume continues it bit-exactly.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <cstring>
#include <fstream>
#include <sstream>

#include "engine/core/atomic_file.h"
#include "engine/core/error.h"
#include "engine/core/log.h"
#include "engine/core/output_lock.h"
#include "engine/core/progress.h"
#include "engine/core/rng.h"
#include "engine/core/stop_signal.h"
#include "engine/eval/metrics.h"
#include "engine/io/image_io.h"
#include "engine/prior/prior_training.h"
#include "engine/prior/refinement.h"
#include "engine/pipeline/devices.h"
#include "engine/pipeline/recon.h"
#include "engine/scene/dataset.h"
#include "engine/synth/generator.h"
#include "engine/synth/scene_file.h"
#include "tools/sparsplat/commands.h"
#include "tools/sparsplat/common.h"

namespace sp::cli {
namespace fs = std::filesystem;

namespace {

std::string scene_folder_name(uint64_t seed) { return "scene_" + std::to_string(seed); }

synth::SynthResult generate_scene(const synth::SceneDesc& base, uint64_t seed, const TrainPriorArgs& a,
                                  const std::string& dir) {
  synth::SynthOptions so;
  so.width = a.width;
  so.height = a.height;
  so.views = a.views;
  so.supersampling = 1;
  so.spare = false;
  const synth::SceneDesc desc = synth::apply_options(synth::arrange_scene(base, seed, scene_folder_name(seed)), so);
  return synth::generate_dataset(desc, so, dir);
}

bool pairs_done(const fs::path& dir) { return fs::exists(dir / "done"); }

// Reconstructs one scene from its first 3 input views and writes, per other view,
// <view>_clean.png, <view>_render.png, <view>_ref.png into `pair_dir`.
void make_pairs(const synth::SynthResult& scene, const TrainPriorArgs& a, uint64_t seed, const fs::path& pair_dir) {
  DatasetOptions dopt;
  dopt.train_ids.assign(scene.split.input_views.begin(), scene.split.input_views.begin() + 3);
  for (int i = 0; i < int(scene.cameras.size()); ++i)
    if (std::find(dopt.train_ids.begin(), dopt.train_ids.end(), i) == dopt.train_ids.end()) dopt.test_ids.push_back(i);
  const Dataset data = Dataset::load(scene.colmap_dir, dopt);
  // The plain 3DGS recipe from the scene's surface points: the artifacts the prior learns to fix.
  ReconConfig config;
  config.iterations = a.recon_iterations;
  config.seed = seed;
  config.sh_degree = 1;
  config.regularizers.preset = "off";
  config.test_views = false;
  config.device = "cpu";
  ReconObserver log_only;  // no progress lines: one scene of many
  const ReconResult recon = run_recon(data, config, log_only);
  auto rasterizer = make_rasterizer("cpu");
  RenderOptions ro;
  ro.sh_degree = recon.sh_degree;
  std::vector<Camera> train_cams;
  for (int id : data.train_ids) train_cams.push_back(data.cameras[size_t(id)]);
  fs::create_directories(pair_dir);
  for (int id : data.test_ids) {
    const Camera& cam = data.cameras[size_t(id)];
    const RenderOutput out = rasterizer->forward(cam, params_of(recon.model), ro);
    const int near = data.train_ids[size_t(prior::nearest_camera(cam, train_cams))];
    const std::string stem = (pair_dir / std::to_string(id)).string();
    save_png(stem + "_clean.png", data.image(id));
    save_png(stem + "_render.png", out.color);
    save_png(stem + "_ref.png", data.image(near));
  }
  write_text_atomic((pair_dir / "done").string(), "ok\n");
}

void load_pairs(const fs::path& pair_dir, std::vector<prior::TrainingSample>& samples) {
  // By name: the samples' order (and so every batch) must not depend on the file system's.
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(pair_dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    const std::string suffix = "_clean.png";
    if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
    const std::string stem = (pair_dir / name.substr(0, name.size() - suffix.size())).string();
    prior::TrainingSample s;
    s.clean = load_image(stem + "_clean.png", 3);
    s.degraded = load_image(stem + "_render.png", 3);
    s.reference = load_image(stem + "_ref.png", 3);
    samples.push_back(s);
    prior::TrainingSample plain = s;  // the denoising objective on the clean image
    plain.degraded = Image();
    samples.push_back(std::move(plain));
  }
}

// The 2D effect of a model on the pairs' renders (no 3D feedback): mean PSNR/SSIM of render and
// refined render against ground truth, and the sampler's cost.
int evaluate_on_pairs(const TrainPriorArgs& a, const std::vector<prior::TrainingSample>& samples) {
  const auto model = prior::load_denoiser(a.evaluate);
  prior::SamplerOptions so;
  so.strength = a.strength;
  so.steps = a.ddim_steps;
  so.one_step = a.one_step;
  so.cache_threshold = a.cache_threshold;
  so.samples = a.samples;
  double p0 = 0, p1 = 0, s0 = 0, s1 = 0, calls = 0;
  int n = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (size_t i = 0; i < samples.size(); ++i) {
    const auto& s = samples[i];
    if (s.degraded.empty()) continue;
    so.seed = i;
    prior::SamplerStats st;
    const Image refined = prior::refine_image(*model, s.degraded, &s.reference, so, &st);
    p0 += psnr(s.degraded, s.clean);
    p1 += psnr(refined, s.clean);
    s0 += ssim(s.degraded, s.clean);
    s1 += ssim(refined, s.clean);
    calls += st.network_calls;
    ++n;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%d renders: PSNR %.3f -> %.3f  SSIM %.4f -> %.4f  | %.1f network calls/view, %.3f s/view "
              "(strength %.2f, %s, cache %.3f, %d sample(s))\n",
              n, p0 / n, p1 / n, s0 / n, s1 / n, calls / n, secs / n, a.strength,
              a.one_step ? "one step" : (std::to_string(a.ddim_steps) + " DDIM steps").c_str(), a.cache_threshold,
              a.samples);
  return 0;
}

// The options a checkpoint must share with the run continuing it (all but --steps, the
// checkpoint interval and the time limit, which do not change what a step does).
std::string train_prior_fingerprint(const TrainPriorArgs& a) {
  std::ostringstream f;
  f << "scenes " << a.scenes << " from " << a.seed_base << ", " << a.width << "x" << a.height << ", " << a.views
    << " views, recon " << a.recon_iterations << ", batch " << a.batch << ", crop " << a.crop << ", lr " << a.learning_rate
    << ", UNet " << a.base_channels << "x" << a.levels << ", scene " << fs::path(a.scene).filename().string();
  return f.str();
}

}  // namespace

int run_train_prior(const TrainPriorArgs& a) {
  [[maybe_unused]] const auto t0 = std::chrono::steady_clock::now();
  if (a.output.empty()) throw_bad_input("--output", "is empty");
  if (fs::exists(a.output) && !fs::is_directory(a.output)) throw_bad_input(a.output, "exists and is not a folder");
  if (a.scenes < 1) throw_bad_input("--scenes", "must be at least 1");
  if (a.width < 16 || a.height < 16) throw_bad_input("--resolution", "sides of at least 16 pixels");
  if (a.views < 13) throw_bad_input("--views", "needs at least 13 (3 inputs + 10 held-out views)");
  if (a.steps < 0 || a.batch < 1 || a.crop < 8) throw_bad_input("--steps/--batch/--crop", "out of range");
  prior::init_torch_threads(0);
  if (!prior::torch_backends_available())
    throw_bad_input("train-prior", "this build has no libtorch (configure with -DSPARSPLAT_TORCH=ON)");
  const synth::SceneDesc base = synth::read_scene(a.scene);
  const fs::path out(a.output);
  // One run per output folder; a killed run's half-written files go (engine/core/output_lock.h).
  const OutputLock lock(out.string());
  remove_stale_temporaries(out.string());
  fs::create_directories(out / "pairs");
  for (int i = 0; i < a.scenes; ++i)
    remove_stale_temporaries((out / "pairs" / scene_folder_name(a.seed_base + uint64_t(i))).string());
  install_stop_signal_handlers();

  // 1. Scenes and their sparse-view pairs (cached).
  for (int i = 0; i < a.scenes; ++i) {
    const uint64_t seed = a.seed_base + uint64_t(i);
    const fs::path pair_dir = out / "pairs" / scene_folder_name(seed);
    if (pairs_done(pair_dir)) continue;
    const auto s0 = std::chrono::steady_clock::now();
    const auto scene = generate_scene(base, seed, a, (out / "scenes").string());
    if (a.scenes_only) {
      // The 3-view protocol of the scene, for `recon --train-ids ... --test-ids ...`.
      auto list = [](const std::vector<int>& ids) {
        std::string s;
        for (int id : ids) s += (s.empty() ? "" : ",") + std::to_string(id);
        return s;
      };
      const std::vector<int> train(scene.split.input_views.begin(), scene.split.input_views.begin() + 3);
      write_text_atomic((out / "scenes" / (scene_folder_name(seed) + "_split.txt")).string(),
                        "--train-ids " + list(train) + " --test-ids " + list(scene.split.test_views) + "\n");
      continue;
    }
    make_pairs(scene, a, seed, pair_dir);
    log_info("train-prior: scene " + std::to_string(i + 1) + "/" + std::to_string(a.scenes) + " (" +
             scene_folder_name(seed) + ") reconstructed from 3 views in " +
             std::to_string(std::chrono::duration<double>(std::chrono::steady_clock::now() - s0).count()) + " s");
  }
  if (a.scenes_only) {
    std::printf("%d scenes -> %s\n", a.scenes, (out / "scenes").string().c_str());
    return 0;
  }
  std::vector<prior::TrainingSample> samples;
  for (int i = 0; i < a.scenes; ++i) load_pairs(out / "pairs" / scene_folder_name(a.seed_base + uint64_t(i)), samples);
  if (samples.empty()) throw_bad_input((out / "pairs").string(), "no training pairs");
  if (!a.evaluate.empty()) return evaluate_on_pairs(a, samples);
#ifndef SPARSPLAT_HAS_TORCH
  throw_bad_input("train-prior", "this build has no libtorch (configure with -DSPARSPLAT_TORCH=ON)");
#else

  // 2. The network.
  prior::UNetConfig config;
  config.base_channels = a.base_channels;
  config.levels = a.levels;
  prior::UNetDenoiser net(config, a.seed_base);
  prior::PriorOptimizerOptions po;
  po.crop = a.crop;
  po.learning_rate = a.learning_rate;
  prior::PriorOptimizer optimizer(net, po);
  const std::string checkpoint = (out / "checkpoint.pt").string();
  Rng rng(a.seed_base * 31);
  float ema = -1;
  const std::string fingerprint = train_prior_fingerprint(a);
  // What the loop needs beyond the network and Adam: the batch RNG, the smoothed loss and
  // the options it was made with, so a resumed run continues exactly.
  const auto run_state = [&] {
    std::ostringstream st;
    uint32_t bits = 0;
    std::memcpy(&bits, &ema, sizeof bits);
    st << fingerprint << "\n" << bits << "\n" << rng.engine();
    return st.str();
  };
  if (a.resume && fs::exists(checkpoint)) {
    const std::string state = optimizer.load_checkpoint(checkpoint);
    if (state.empty()) {
      // An older checkpoint: the weights continue, the batches do not repeat an uninterrupted run's.
      rng = Rng(a.seed_base * 31 + uint64_t(optimizer.steps()));
      log_warn(checkpoint + ": no run state (an older checkpoint): batches are drawn anew");
    } else {
      std::istringstream st(state);
      std::string stored;
      std::getline(st, stored);
      if (stored != fingerprint)
        throw_bad_input(checkpoint, "checkpoint of another run: made with '" + stored + "', this run is '" +
                                        fingerprint + "' (resuming needs the same options; --steps may change)");
      uint32_t bits = 0;
      st >> bits >> rng.engine();
      if (!st) throw_bad_input(checkpoint, "checkpoint's run state is unreadable");
      std::memcpy(&ema, &bits, sizeof ema);
    }
    log_info("train-prior: resumed at step " + std::to_string(optimizer.steps()));
  }
  log_info("train-prior: " + std::to_string(samples.size()) + " samples, UNet with " +
           std::to_string(net.parameter_count()) + " parameters");
  ProgressLine progress("train-prior", a.steps);
  const auto train_start = std::chrono::steady_clock::now();
  while (optimizer.steps() < a.steps) {
    // SIGINT / SIGTERM between steps: checkpoint, then one line and exit 128 + the signal.
    if (const int sig = stop_signal()) {
      optimizer.save_checkpoint(checkpoint, run_state());
      throw Interrupted(sig, "interrupted by " + signal_name(sig) + " at step " + std::to_string(optimizer.steps()) +
                                 " of " + std::to_string(a.steps) + ": checkpoint " + checkpoint +
                                 " (continue with --resume)");
    }
    std::vector<const prior::TrainingSample*> batch;
    for (int b = 0; b < a.batch; ++b) batch.push_back(&samples[size_t(rng.index(int(samples.size())))]);
    const float loss = optimizer.step(batch, rng);
    ema = ema < 0 ? loss : 0.95f * ema + 0.05f * loss;
    char detail[64];
    std::snprintf(detail, sizeof detail, "L1 %.4f", ema);
    progress.update(optimizer.steps(), detail);
    if (a.checkpoint_every > 0 && optimizer.steps() % a.checkpoint_every == 0)
      optimizer.save_checkpoint(checkpoint, run_state());
    const double spent = std::chrono::duration<double>(std::chrono::steady_clock::now() - train_start).count();
    if (a.time_limit_seconds > 0 && spent > a.time_limit_seconds) {
      log_info("train-prior: time limit reached at step " + std::to_string(optimizer.steps()) +
               " (resume with --resume to continue)");
      break;
    }
  }
  progress.finish("L1 " + std::to_string(ema));
  optimizer.save_checkpoint(checkpoint, run_state());
  const std::string model_path = (out / "prior.pt").string();
  net.save(model_path);
  std::printf("%ld steps, %zu samples from %d scenes, %.1f s -> %s\n", optimizer.steps(), samples.size(), a.scenes,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), model_path.c_str());
  return 0;
#endif
}

}  // namespace sp::cli
