// The training kernels (cuda/cuda_train_kernels.h) against their CPU references on random
// inputs: photometric loss and its gradient, fused Adam, densification statistics.
// Skip without a device.
#include <gtest/gtest.h>

#include <cmath>

#include "cuda/cuda_train_kernels.h"
#include "cuda_test_util.h"
#include "engine/core/rng.h"
#include "support/random_model.h"

namespace sp {
namespace {

using cudatest::relative_l2;

Image random_unit_image(Rng& rng, int w, int h, int c) {
  Image im(w, h, c);
  for (float& v : im.pixels) v = rng.uniform();
  return im;
}

TEST(CudaTrainKernels, PhotometricLossMatchesCpu) {
  SP_REQUIRE_CUDA_DEVICE();
  // Odd sizes, smaller than the window in one case, and a 1080p-sized one.
  const int sizes[][3] = {{37, 23, 3}, {8, 5, 3}, {64, 48, 1}, {1920, 1080, 3}};
  uint64_t seed = 11;
  for (const auto& s : sizes) {
    SCOPED_TRACE(std::to_string(s[0]) + "x" + std::to_string(s[1]) + "x" + std::to_string(s[2]));
    Rng rng(seed++);
    const Image target = random_unit_image(rng, s[0], s[1], s[2]);
    Image render = target;  // a perturbed copy: realistic SSIM values, some exact ties (sign 0)
    for (size_t i = 0; i < render.pixels.size(); ++i)
      if (i % 7 != 0) render.pixels[i] += 0.1f * float(rng.normal());
    for (float lambda : {0.2f, 0.0f, 1.0f}) {
      const PhotometricLoss cpu = photometric_loss(render, target, lambda);
      const PhotometricLoss gpu = cuda_photometric_loss_host(render, target, lambda);
      EXPECT_NEAR(gpu.l1, cpu.l1, 1e-6 * std::max(1.0, std::abs(cpu.l1)));
      EXPECT_NEAR(gpu.ssim, cpu.ssim, 1e-5);
      EXPECT_NEAR(gpu.value, cpu.value, 1e-5);
      EXPECT_LE(relative_l2(gpu.grad.pixels, cpu.grad.pixels), 1e-5) << "lambda " << lambda;
    }
  }
}

using test::random_model;

GaussianGradients random_grads(Rng& rng, const GaussianModel& m) {
  GaussianGradients g;
  auto fill = [&](std::vector<float>& v, size_t n) {
    v.resize(n);
    for (size_t i = 0; i < n; ++i) v[i] = i % 13 == 0 ? 0.0f : 1e-3f * float(rng.normal());  // zeros: culled
  };
  fill(g.means, m.means.size());
  fill(g.log_scales, m.log_scales.size());
  fill(g.rotations, m.rotations.size());
  fill(g.opacities, m.opacities.size());
  fill(g.sh, m.sh.size());
  fill(g.extras, m.extras.size());
  return g;
}

void expect_models_close(const GaussianModel& a, const GaussianModel& b, double tol, const char* what) {
  EXPECT_LE(relative_l2(a.means, b.means), tol) << what << " means";
  EXPECT_LE(relative_l2(a.log_scales, b.log_scales), tol) << what << " log_scales";
  EXPECT_LE(relative_l2(a.rotations, b.rotations), tol) << what << " rotations";
  EXPECT_LE(relative_l2(a.opacities, b.opacities), tol) << what << " opacities";
  EXPECT_LE(relative_l2(a.sh, b.sh), tol) << what << " sh";
  EXPECT_LE(relative_l2(a.extras, b.extras), tol) << what << " extras";
}

TEST(CudaTrainKernels, FusedAdamMatchesCpuAdamOverSeveralSteps) {
  SP_REQUIRE_CUDA_DEVICE();
  for (int degree : {0, 3}) {
    SCOPED_TRACE(degree);
    Rng rng(100 + uint64_t(degree));
    const GaussianModel start = random_model(rng, 3001, degree, degree == 3 ? 2 : 0);
    GaussianModel cpu = start, gpu = start;
    AdamState cs, gs;
    cs.reset_like(cpu);
    gs.reset_like(gpu);
    Adam adam;
    LearningRates lr;
    lr.means = 1.3e-4f;  // distinct rates so a wrong group shows
    lr.sh_rest = 7e-5f;
    for (int step = 0; step < 5; ++step) {
      const GaussianGradients g = random_grads(rng, start);
      adam.step(cpu, g, cs, lr);
      cuda_adam_step_host(adam, gpu, g, gs, lr);
    }
    EXPECT_EQ(gs.step, cs.step);
    expect_models_close(gpu, cpu, 1e-6, "parameters");
    expect_models_close(gs.m, cs.m, 1e-6, "first moments");
    expect_models_close(gs.v, cs.v, 1e-6, "second moments");
    // The update itself (tiny next to the parameters) must match too.
    std::vector<float> du_cpu, du_gpu;
    for (size_t i = 0; i < cpu.sh.size(); ++i) {
      du_cpu.push_back(cpu.sh[i] - start.sh[i]);
      du_gpu.push_back(gpu.sh[i] - start.sh[i]);
    }
    EXPECT_LE(relative_l2(du_gpu, du_cpu), 1e-4) << "SH updates";
  }
}

TEST(CudaTrainKernels, DensificationStatisticsMatchCpu) {
  SP_REQUIRE_CUDA_DEVICE();
  Rng rng(77);
  const size_t n = 5000;
  DensityController cpu, gpu;
  cpu.resize(n);
  gpu.resize(n);
  for (int view = 0; view < 3; ++view) {
    RenderOutput out;
    out.radii.resize(n);
    for (int& r : out.radii) r = rng.uniform() < 0.3 ? 0 : int(1 + 40 * rng.uniform());
    GaussianGradients g;
    g.means2d.resize(2 * n);
    for (float& v : g.means2d) v = 1e-4f * float(rng.normal());
    cpu.accumulate(out, g, 320 + view, 240);
    cuda_accumulate_densify_stats_host(out.radii, g.means2d, 320 + view, 240, gpu);
  }
  EXPECT_LE(relative_l2(gpu.grad_accum, cpu.grad_accum), 1e-6);
  EXPECT_EQ(gpu.visible_count, cpu.visible_count);
  EXPECT_EQ(gpu.max_radius, cpu.max_radius);
}

}  // namespace
}  // namespace sp
