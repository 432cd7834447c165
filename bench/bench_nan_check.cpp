// What the trainer's poison guard costs (docs/training.md "NaN rollback"): a separate pass
// of the NaN check over a model (an upper bound: the trainer folds the parameter check into
// Adam's loop) and the rollback copy of parameters and both Adam moments, against one
// forward + backward render of the same model, the least an iteration does.
//
//   bench_nan_check [N] [W H]     (default: 27.5k Gaussians at SH degree 3, 199x299)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "bench/random_frustum_scene.h"
#include "engine/render/rasterizer.h"
#include "engine/train/finite_check.h"

int main(int argc, char** argv) {
  using Clock = std::chrono::steady_clock;
  const auto seconds = [](Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); };
  const size_t n = argc > 1 ? size_t(std::atol(argv[1])) : 27500;
  const int w = argc > 3 ? std::atoi(argv[2]) : 199, h = argc > 3 ? std::atoi(argv[3]) : 299;
  sp::Camera cam;
  sp::GaussianModel model;
  sp::bench::random_frustum_scene(n, w, h, cam, model);
  auto rasterizer = sp::make_cpu_rasterizer();
  sp::RenderOptions ro;
  ro.sh_degree = 3;
  const sp::GaussianParams params = sp::params_of(model);
  sp::GaussianGradients grads;
  sp::RenderOutput out = rasterizer->forward(cam, params, ro);  // warm-up
  sp::Image dcolor(out.color.width, out.color.height, 3, 1e-3f);
  const int render_reps = 5;
  auto t0 = Clock::now();
  for (int r = 0; r < render_reps; ++r) {
    out = rasterizer->forward(cam, params, ro);
    sp::OutputGradients og;
    og.color = &dcolor;
    rasterizer->backward(cam, params, ro, out, og, grads);
  }
  const double render_s = seconds(t0) / render_reps;

  const int check_reps = 200;
  size_t found = 0;
  t0 = Clock::now();
  for (int r = 0; r < check_reps; ++r) found += sp::non_finite_group(model) != nullptr;
  const double check_s = seconds(t0) / check_reps;

  std::vector<sp::GaussianModel> state(3, model), copy;  // parameters and both Adam moments
  const int copy_reps = 10;
  t0 = Clock::now();
  for (int r = 0; r < copy_reps; ++r) copy = state;
  const double copy_s = seconds(t0) / copy_reps;

  std::printf("%zu Gaussians (SH 3), %dx%d: forward + backward %.2f ms; NaN check pass %.3f ms (%.2f%%%s); "
              "rollback copy %.2f ms, %.3f ms per iteration at one per 50 (%.2f%%)\n",
              n, w, h, render_s * 1e3, check_s * 1e3, 100 * check_s / render_s, found ? ", FOUND NaN" : "",
              copy_s * 1e3, copy_s * 1e3 / 50, 100 * copy_s / 50 / render_s);
  return found ? 1 : 0;
}
