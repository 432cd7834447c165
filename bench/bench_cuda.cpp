// The CUDA backend's speed (docs/cuda.md), built only with SPARSPLAT_CUDA:
//
//  1. Rasterization at 1920x1080 for 100k / 1M / 3M random Gaussians (SH degree 3): median
//     wall time of forward, loss (L1 + D-SSIM with gradient), backward, Adam + densification
//     statistics, and of a whole iteration with no synchronization inside it; the same passes
//     on the CPU engine for sizes up to --cpu-max, and the CPU/GPU ratio.
//  2. Training a 3-view scene (DTU scan24 by the DTU protocol if present, else the subset
//     bench/gpu_pack.sh stages (its split.txt), else fern by the LLFF protocol) for
//     --train-iterations on the GPU: seconds, Gaussians, held-out PSNR (and inside the
//     object masks when the scene has them).
//  3. --compare-iterations on that scene on both devices from the same start: held-out PSNR
//     of each (the "within 0.1 dB") and the time ratio.
//
//   bench_cuda [--sizes 100000,1000000,3000000] [--width W] [--height H] [--repeats R]
//              [--cpu-max N] [--cpu-repeats R] [--data DIR] [--scene DIR]
//              [--train-iterations N] [--compare-iterations N] [--json FILE]
//
// The training runs go through the pipeline (engine/pipeline/recon.h, as `recon` runs them):
// the plain recipe with the sparse-view densification settings (threshold 1e-3, 100k budget,
// x2 growth) and none of the regularizers, which the CUDA trainer does not implement. Exit 0 also without a device (it says so and measures nothing).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cuda/cuda_device_rasterizer.h"
#include "cuda/cuda_rasterizer.h"
#include "cuda/cuda_train_kernels.h"
#include "engine/core/atomic_file.h"
#include "engine/core/error.h"
#include "engine/core/parallel.h"
#include "engine/core/rng.h"
#include "engine/pipeline/recon.h"
#include "engine/train/adam.h"
#include "bench/random_frustum_scene.h"

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct PassTimes {
  double forward = 0, loss = 0, backward = 0, update = 0, iteration = 0;  // seconds (medians)
};

PassTimes time_gpu(const sp::Camera& cam, const sp::GaussianModel& model, const sp::Image& target, int repeats) {
  sp::CudaDeviceModel dm(model);
  sp::CudaDeviceRasterizer raster;
  sp::CudaPhotometricLoss loss;
  sp::RenderOptions ro;
  ro.sh_degree = 3;
  const size_t pixels = size_t(cam.width) * size_t(cam.height);
  const float* d_target = dm.upload_image(0, target);
  float* d_grad = dm.scratch(1, pixels * 3);
  const sp::FlatLayout layout = sp::FlatLayout::of(model.size(), model.sh_coeffs(), model.extra_channels);
  sp::LearningRates lr;
  long step = 0;
  auto update = [&] {
    sp::cuda_accumulate_densify_stats(dm.count(), raster.radii(), dm.gradients().means2d, cam.width, cam.height,
                                      dm.grad_accum(), dm.visible_count(), dm.max_radius());
    sp::cuda_fused_adam(layout, dm.flat_params(), dm.flat_gradients(), dm.adam_m(), dm.adam_v(), lr, 0.9f, 0.999f,
                        1e-15f, ++step);
  };
  std::vector<double> f, l, b, u, it;
  for (int r = 0; r < repeats + 2; ++r) {  // 2 warm-ups
    auto t = Clock::now();
    raster.forward(cam, dm.params(), ro);
    sp::cuda_synchronize();
    const double tf = seconds_since(t);
    t = Clock::now();
    loss.compute(cam.width, cam.height, 3, raster.color(), d_target, 0.2f, d_grad);
    sp::cuda_synchronize();
    const double tl = seconds_since(t);
    t = Clock::now();
    raster.backward(d_grad, nullptr, nullptr, nullptr, dm.gradients());
    sp::cuda_synchronize();
    const double tb = seconds_since(t);
    t = Clock::now();
    update();
    sp::cuda_synchronize();
    const double tu = seconds_since(t);
    // The whole iteration as the trainer runs it: no synchronization but the loss read back.
    t = Clock::now();
    raster.forward(cam, dm.params(), ro);
    loss.compute(cam.width, cam.height, 3, raster.color(), d_target, 0.2f, d_grad);
    raster.backward(d_grad, nullptr, nullptr, nullptr, dm.gradients());
    update();
    (void)loss.values();
    const double ti = seconds_since(t);
    if (r >= 2) {
      f.push_back(tf);
      l.push_back(tl);
      b.push_back(tb);
      u.push_back(tu);
      it.push_back(ti);
    }
  }
  return {median(f), median(l), median(b), median(u), median(it)};
}

PassTimes time_cpu(const sp::Camera& cam, sp::GaussianModel model, const sp::Image& target, int repeats) {
  auto raster = sp::make_cpu_rasterizer();
  sp::RenderOptions ro;
  ro.sh_degree = 3;
  sp::Adam adam;
  sp::AdamState state;
  state.reset_like(model);
  sp::DensityController density;
  sp::LearningRates lr;
  std::vector<double> f, l, b, u, it;
  for (int r = 0; r < repeats + 1; ++r) {  // 1 warm-up
    auto t = Clock::now();
    const sp::RenderOutput out = raster->forward(cam, sp::params_of(model), ro);
    const double tf = seconds_since(t);
    t = Clock::now();
    const sp::PhotometricLoss loss = sp::photometric_loss(out.color, target, 0.2f);
    const double tl = seconds_since(t);
    t = Clock::now();
    sp::OutputGradients og;
    og.color = &loss.grad;
    sp::GaussianGradients grads;
    raster->backward(cam, sp::params_of(model), ro, out, og, grads);
    const double tb = seconds_since(t);
    t = Clock::now();
    density.accumulate(out, grads, cam.width, cam.height);
    adam.step(model, grads, state, lr);
    const double tu = seconds_since(t);
    if (r >= 1) {
      f.push_back(tf);
      l.push_back(tl);
      b.push_back(tb);
      u.push_back(tu);
      it.push_back(tf + tl + tb + tu);
    }
  }
  return {median(f), median(l), median(b), median(u), median(it)};
}

std::string default_data_dir() {
  const char* env = std::getenv("SPARSPLAT_DATA_DIR");
  if (env && *env) return env;
  return (std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "shared" / "data").string();
}


std::vector<size_t> parse_sizes(const std::string& s) {
  std::vector<size_t> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(size_t(std::stoull(item)));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // line by line: a time-boxed run keeps what it printed
  std::vector<size_t> sizes = {100000, 1000000, 3000000};
  int width = 1920, height = 1080, repeats = 10, cpu_repeats = 2;
  size_t cpu_max = 1000000;
  long train_iterations = 10000, compare_iterations = 500;
  std::string data_dir = default_data_dir(), scene, json_path;
  for (int a = 1; a < argc; ++a) {
    const std::string arg = argv[a];
    const bool has = a + 1 < argc;
    if (arg == "--sizes" && has) sizes = parse_sizes(argv[++a]);
    else if (arg == "--width" && has) width = std::atoi(argv[++a]);
    else if (arg == "--height" && has) height = std::atoi(argv[++a]);
    else if (arg == "--repeats" && has) repeats = std::max(1, std::atoi(argv[++a]));
    else if (arg == "--cpu-max" && has) cpu_max = size_t(std::atoll(argv[++a]));
    else if (arg == "--cpu-repeats" && has) cpu_repeats = std::max(1, std::atoi(argv[++a]));
    else if (arg == "--data" && has) data_dir = argv[++a];
    else if (arg == "--scene" && has) scene = argv[++a];
    else if (arg == "--train-iterations" && has) train_iterations = std::atol(argv[++a]);
    else if (arg == "--compare-iterations" && has) compare_iterations = std::atol(argv[++a]);
    else if (arg == "--json" && has) json_path = argv[++a];
    else {
      std::fprintf(stderr,
                   "usage: %s [--sizes N,N,...] [--width W] [--height H] [--repeats R] [--cpu-max N] "
                   "[--cpu-repeats R] [--data DIR] [--scene DIR] [--train-iterations N] [--compare-iterations N] "
                   "[--json FILE]\n",
                   argv[0]);
      return 2;
    }
  }
  std::string why;
  if (!sp::cuda_device_available(&why)) {
    std::printf("bench_cuda: no CUDA device (%s); nothing measured\n", why.c_str());
    return 0;
  }
  const std::string device = sp::cuda_device_description();
  std::printf("device: %s; CPU threads: %d\n", device.c_str(), sp::thread_count());
  std::ostringstream json;
  json << "{\n  \"device\": \"" << device << "\",\n  \"cpu_threads\": " << sp::thread_count() << ",\n";
  json << "  \"resolution\": [" << width << ", " << height << "],\n  \"rasterization\": [";

  try {
    // 1. Rasterization and the step's kernels at each size.
    for (size_t si = 0; si < sizes.size(); ++si) {
      const size_t n = sizes[si];
      sp::Camera cam;
      sp::GaussianModel model;
      sp::bench::random_frustum_scene(size_t(n), width, height, cam, model);
      sp::Image target(width, height, 3);
      sp::Rng rng(3);
      for (float& v : target.pixels) v = rng.uniform();
      const PassTimes g = time_gpu(cam, model, target, repeats);
      std::printf("%8zu Gaussians %dx%d  GPU ms: forward %.2f  loss %.2f  backward %.2f  adam+stats %.2f  "
                  "iteration %.2f\n",
                  n, width, height, 1e3 * g.forward, 1e3 * g.loss, 1e3 * g.backward, 1e3 * g.update,
                  1e3 * g.iteration);
      json << (si ? ",\n" : "\n") << "    {\"gaussians\": " << n << ", \"gpu_ms\": {\"forward\": " << 1e3 * g.forward
           << ", \"loss\": " << 1e3 * g.loss << ", \"backward\": " << 1e3 * g.backward
           << ", \"adam_stats\": " << 1e3 * g.update << ", \"iteration\": " << 1e3 * g.iteration << "}";
      if (n <= cpu_max) {
        const PassTimes c = time_cpu(cam, model, target, cpu_repeats);
        std::printf("%8zu Gaussians %dx%d  CPU ms: forward %.1f  loss %.1f  backward %.1f  adam+stats %.1f  "
                    "iteration %.1f  (CPU/GPU: forward %.0fx, backward %.0fx, iteration %.0fx)\n",
                    n, width, height, 1e3 * c.forward, 1e3 * c.loss, 1e3 * c.backward, 1e3 * c.update,
                    1e3 * c.iteration, c.forward / g.forward, c.backward / g.backward, c.iteration / g.iteration);
        json << ", \"cpu_ms\": {\"forward\": " << 1e3 * c.forward << ", \"loss\": " << 1e3 * c.loss
             << ", \"backward\": " << 1e3 * c.backward << ", \"adam_stats\": " << 1e3 * c.update
             << ", \"iteration\": " << 1e3 * c.iteration << "}";
      }
      json << "}";
      std::fflush(stdout);
    }
    json << "\n  ]";

    // 2./3. A 3-view scene.
    if (scene.empty()) {
      for (const char* name : {"dtu_scan24", "dtu_scan24_subset", "fern"})
        if (std::filesystem::is_directory(data_dir + "/" + name)) {
          scene = data_dir + "/" + name;
          break;
        }
    }
    if (scene.empty() || (train_iterations <= 0 && compare_iterations <= 0)) {
      std::printf("3-view training: skipped (no dtu_scan24 or fern under %s)\n", data_dir.c_str());
    } else {
      sp::DatasetOptions dopt;
      const std::string scene_name = std::filesystem::path(scene).filename().string();
      const bool dtu = scene_name.find("dtu") != std::string::npos;
      if (std::filesystem::exists(scene + "/split.txt")) {
        // A subset staged by bench/gpu_pack.sh: line 1 train ids, line 2 test ids.
        std::ifstream in(scene + "/split.txt");
        std::string train, test;
        std::getline(in, train);
        std::getline(in, test);
        for (size_t id : parse_sizes(train)) dopt.train_ids.push_back(int(id));
        for (size_t id : parse_sizes(test)) dopt.test_ids.push_back(int(id));
        dopt.downscale = dtu ? 4 : 0;  // the DTU protocol's 1/4 size
      } else {
        dopt.protocol = scene_name == "fern" ? "llff" : dtu ? "dtu" : "auto";
        dopt.train_views = 3;
      }
      const sp::Dataset data = sp::Dataset::load(scene, dopt);
      // The pipeline as `recon` runs it, with the sparse-view preset's densification settings
      // only: its regularizers are not in the CUDA trainer.
      sp::ReconConfig config;
      config.regularizers.co_training = "off";
      config.regularizers.pseudo_views = 0;
      std::printf("scene %s (%s, %zu train / %zu test views at %dx%d)\n", scene.c_str(), dopt.protocol.c_str(),
                  data.train_ids.size(), data.test_ids.size(), data.cameras[0].width, data.cameras[0].height);
      json << ",\n  \"scene\": {\"path\": \"" << scene << "\", \"protocol\": \"" << dopt.protocol
           << "\", \"width\": " << data.cameras[0].width << ", \"height\": " << data.cameras[0].height << "}";
      auto train_on = [&](const std::string& device, long iterations) {
        sp::ReconConfig c = config;
        c.device = device;
        c.iterations = iterations;
        sp::ReconObserver log_only;
        return sp::run_recon(data, c, log_only);
      };
      if (train_iterations > 0) {
        const sp::ReconResult r = train_on("cuda", train_iterations);
        const double s = r.train_seconds;
        std::printf("GPU training: %ld iterations in %.1f s (%.2f ms/iteration), %zu Gaussians, held-out PSNR %.2f dB "
                    "(masked %.2f; -1 = no masks); init: %s\n",
                    train_iterations, s, 1e3 * s / double(train_iterations), r.model.size(), r.scores.mean_psnr,
                    r.scores.mean_masked_psnr, r.stages.front().detail.c_str());
        json << ",\n  \"train\": {\"iterations\": " << train_iterations << ", \"seconds\": " << s
             << ", \"gaussians\": " << r.model.size() << ", \"test_psnr\": " << r.scores.mean_psnr
             << ", \"test_masked_psnr\": " << r.scores.mean_masked_psnr << "}";
      }
      if (compare_iterations > 0) {
        // Each device scores its own renders (the CUDA rasterizer matches the CPU's: tests/cuda).
        const sp::ReconResult cpu = train_on("cpu", compare_iterations);
        const sp::ReconResult gpu = train_on("cuda", compare_iterations);
        const double pc = cpu.scores.mean_psnr, pg = gpu.scores.mean_psnr;
        const double sc = cpu.train_seconds, sg = gpu.train_seconds;
        std::printf("%ld iterations, CPU vs GPU: held-out PSNR %.3f vs %.3f dB (difference %+.3f, issue bound 0.1); "
                    "%zu vs %zu Gaussians; %.1f s vs %.1f s (%.0fx)\n",
                    compare_iterations, pc, pg, pg - pc, cpu.model.size(), gpu.model.size(), sc, sg, sc / sg);
        json << ",\n  \"compare\": {\"iterations\": " << compare_iterations << ", \"cpu_psnr\": " << pc
             << ", \"gpu_psnr\": " << pg << ", \"cpu_seconds\": " << sc << ", \"gpu_seconds\": " << sg
             << ", \"cpu_gaussians\": " << cpu.model.size() << ", \"gpu_gaussians\": " << gpu.model.size() << "}";
      }
    }
  } catch (const sp::Error& e) {
    std::fprintf(stderr, "bench_cuda: %s\n", e.what());
    return 1;
  }
  json << "\n}\n";
  if (!json_path.empty()) {
    const std::string text = json.str();
    sp::write_file_atomic(json_path, [&](std::ostream& out) { out << text; });
    std::printf("wrote %s\n", json_path.c_str());
  }
  return 0;
}
