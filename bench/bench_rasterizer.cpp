// Times the CPU tile rasterizer through the public interface (forward, then backward with
// colour, depth and alpha gradients) and the training loss at the same size, the project's speed target: a 199x299 view of
// 27.5k Gaussians at SH degree 3, i.e. the OpenSplat statue model of the shared data
// (view 0; data folder: --data, else $SPARSPLAT_DATA_DIR, else ../shared/data beside the
// source tree). Without it, or with --random, a random scene of the same shape.
//
//   bench_rasterizer [--data DIR] [--random [N [W H]]] [--repeats R] [--threads T]
//
// Prints the median and best wall time of each pass over R repeats (after 2 warm-up
// passes). On a machine shared with other jobs, compare single-thread runs: OpenMP
// barriers stall when a core is taken.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/core/parallel.h"
#include "engine/core/rng.h"
#include "engine/io/cameras_json.h"
#include "engine/render/rasterizer.h"
#include "engine/train/losses.h"
#include "engine/io/gaussian_ply.h"
#include "bench/random_frustum_scene.h"

namespace {

// SPARSPLAT_DATA_DIR, else ../shared/data beside the source tree (as the tests look for it).
std::string default_data_dir() {
  const char* env = std::getenv("SPARSPLAT_DATA_DIR");
  if (env && *env) return env;
  return (std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "shared" / "data").string();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::string data = default_data_dir();
  bool random = false;
  int n = 27500, width = 199, height = 299, repeats = 30;
  for (int a = 1; a < argc; ++a) {
    const std::string arg = argv[a];
    auto number = [&](int& out) {
      if (a + 1 < argc && std::isdigit(static_cast<unsigned char>(argv[a + 1][0]))) out = std::atoi(argv[++a]);
    };
    if (arg == "--data" && a + 1 < argc) {
      data = argv[++a];
    } else if (arg == "--random") {
      random = true;
      number(n);
      number(width);
      number(height);
    } else if (arg == "--repeats") {
      number(repeats);
    } else if (arg == "--threads") {
      int t = 0;
      number(t);
      sp::set_thread_count(t);
    } else {
      std::fprintf(stderr, "usage: %s [--data DIR] [--random [N [W H]]] [--repeats R] [--threads T]\n", argv[0]);
      return 2;
    }
  }
  repeats = std::max(repeats, 1);

  sp::Camera cam;
  sp::GaussianModel model;
  std::string scene;
  const std::string statue = data + "/opensplat_statue";
  if (!random && std::filesystem::exists(statue + "/point_cloud.ply")) {
    model = sp::read_gaussian_ply(statue + "/point_cloud.ply");
    cam = sp::read_cameras_json(statue + "/cameras.json").at(0);
    scene = "OpenSplat statue (view 0)";
  } else {
    sp::bench::random_frustum_scene(size_t(n), width, height, cam, model);
    scene = "random scene";
  }

  auto rast = sp::make_cpu_rasterizer();
  const sp::GaussianParams params = sp::params_of(model);
  sp::RenderOptions opt;
  opt.sh_degree = model.sh_degree;
  sp::Rng rng(1);
  sp::Image dc(cam.width, cam.height, 3), dd(cam.width, cam.height, 1), da(cam.width, cam.height, 1);
  for (auto& v : dc.pixels) v = rng.normal(0.0f, 1e-3f);
  for (auto& v : dd.pixels) v = rng.normal(0.0f, 1e-4f);
  for (auto& v : da.pixels) v = rng.normal(0.0f, 1e-3f);
  const sp::OutputGradients og{&dc, &dd, &da, nullptr};
  sp::GaussianGradients g;

  using clock = std::chrono::steady_clock;
  std::vector<double> tf, tb, tl;
  double coverage = 0;
  size_t visible = 0;
  for (int r = 0; r < repeats + 2; ++r) {
    const auto t0 = clock::now();
    const sp::RenderOutput out = rast->forward(cam, params, opt);
    const auto t1 = clock::now();
    rast->backward(cam, params, opt, out, og, g);
    const auto t2 = clock::now();
    // The training loss on the same image size (L1 + D-SSIM with its gradient image).
    const sp::PhotometricLoss loss = sp::photometric_loss(out.color, dc, 0.2f);
    const auto t3 = clock::now();
    if (!std::isfinite(loss.value)) std::fprintf(stderr, "bench_rasterizer: non-finite loss\n");
    if (r >= 2) {  // the first passes size the buffers
      tf.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      tb.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
      tl.push_back(std::chrono::duration<double, std::milli>(t3 - t2).count());
    }
    if (r == 0) {
      for (float a : out.alpha.pixels) coverage += a;
      coverage /= double(out.alpha.pixels.size());
      visible = size_t(std::count_if(out.radii.begin(), out.radii.end(), [](int v) { return v > 0; }));
    }
  }
  std::printf("cpu tile rasterizer, %s: %dx%d, %zu Gaussians (%zu visible), SH degree %d, %d threads, mean alpha %.3f\n",
              scene.c_str(), cam.width, cam.height, model.size(), visible, model.sh_degree, sp::thread_count(),
              coverage);
  std::printf("forward   median %6.2f ms  best %6.2f ms\n", median(tf), *std::min_element(tf.begin(), tf.end()));
  std::printf("backward  median %6.2f ms  best %6.2f ms\n", median(tb), *std::min_element(tb.begin(), tb.end()));
  std::printf("loss      median %6.2f ms  best %6.2f ms  (L1 + D-SSIM and gradient)\n", median(tl),
              *std::min_element(tl.begin(), tl.end()));
  std::printf("total     median %6.2f ms  (forward + backward)\n", median(tf) + median(tb));
  return 0;
}
