// The training kernels' per-element bodies (cuda/train_elements.h) run on the CPU, a loop
// over the index standing in for the grid, in the same launch order as
// cuda/train_kernels.cu, against the engine/train references. This checks the kernels'
// index math and formulas on machines without a GPU; the GPU comparison tests
// (test_cuda_train_kernels.cpp) check the real launches.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "cuda/train_elements.h"
#include "cuda_test_util.h"
#include "engine/core/rng.h"
#include "engine/eval/metrics.h"
#include "engine/train/adam.h"
#include "engine/train/densify.h"
#include "engine/train/losses.h"

namespace sp {
namespace {

namespace te = train_elements;
using cudatest::relative_l2;

// CudaPhotometricLoss::compute, launch by launch.
PhotometricLoss emulated_loss(const Image& render, const Image& target, float lambda) {
  const int w = render.width, h = render.height, nc = render.channels, n = w * h;
  const size_t count = size_t(n) * nc;
  te::Taps taps;
  const std::vector<double> g = ssim_gaussian_window();
  for (int k = 0; k < te::kTaps; ++k) taps.g[k] = float(g[size_t(k)]);
  std::vector<float> in(5 * count, -7.0f), mom(5 * count, -7.0f), tmp(5 * count, -7.0f);  // poisoned
  const float* a = render.pixels.data();
  const float* b = target.pixels.data();
  for (size_t i = 0; i < count; ++i) te::ssim_pack(i, n, nc, a, b, in.data());
  for (size_t i = 0; i < 5 * count; ++i) te::filter_row(i, w, in.data(), tmp.data(), taps);
  for (size_t i = 0; i < 5 * count; ++i) te::filter_col(i, w, h, tmp.data(), mom.data(), taps);
  double ssim_sum = 0;
  for (size_t i = 0; i < count; ++i) ssim_sum += double(te::ssim_map(i, n, nc, mom.data(), in.data()));
  const float* d_maps = in.data() + 2 * count;
  for (size_t i = 0; i < 3 * count; ++i) te::filter_row(i, w, d_maps, tmp.data(), taps);
  for (size_t i = 0; i < 3 * count; ++i) te::filter_col(i, w, h, tmp.data(), mom.data(), taps);
  PhotometricLoss out;
  out.grad = Image(w, h, nc);
  std::fill(out.grad.pixels.begin(), out.grad.pixels.end(), -7.0f);
  double abs_sum = 0;
  for (size_t i = 0; i < count; ++i) {
    double ad = 0;
    te::loss_grad(i, n, nc, a, b, mom.data(), lambda, 1.0f, out.grad.pixels.data(), &ad);
    abs_sum += ad;
  }
  out.l1 = abs_sum / double(count);
  out.ssim = ssim_sum / double(count);
  out.value = (1.0 - lambda) * out.l1 + lambda * (1.0 - out.ssim);
  return out;
}

TEST(TrainElements, EmulatedPhotometricLossMatchesCpu) {
  const int sizes[][3] = {{37, 23, 3}, {8, 5, 3}, {12, 30, 1}};
  uint64_t seed = 3;
  for (const auto& s : sizes) {
    SCOPED_TRACE(std::to_string(s[0]) + "x" + std::to_string(s[1]) + "x" + std::to_string(s[2]));
    Rng rng(seed++);
    Image target(s[0], s[1], s[2]);
    for (float& v : target.pixels) v = rng.uniform();
    Image render = target;
    for (size_t i = 0; i < render.pixels.size(); ++i)
      if (i % 7 != 0) render.pixels[i] += 0.1f * rng.normal();
    for (float lambda : {0.2f, 1.0f}) {
      const PhotometricLoss cpu = photometric_loss(render, target, lambda);
      const PhotometricLoss emu = emulated_loss(render, target, lambda);
      EXPECT_NEAR(emu.l1, cpu.l1, 1e-9);
      EXPECT_NEAR(emu.ssim, cpu.ssim, 1e-5);
      EXPECT_NEAR(emu.value, cpu.value, 1e-5);
      EXPECT_LE(relative_l2(emu.grad.pixels, cpu.grad.pixels), 1e-5) << "lambda " << lambda;
    }
  }
}

TEST(TrainElements, EmulatedAdamMatchesCpuAdam) {
  Rng rng(9);
  GaussianModel model;
  model.sh_degree = 2;
  model.extra_channels = 2;
  model.resize(57);
  for (auto* arr : {&model.means, &model.log_scales, &model.rotations, &model.opacities, &model.sh, &model.extras})
    for (float& v : *arr) v = rng.normal();
  GaussianModel cpu = model;
  AdamState cs;
  cs.reset_like(cpu);
  const FlatLayout layout = FlatLayout::of(model.size(), model.sh_coeffs(), model.extra_channels);
  std::vector<float> p = flatten(model), m(layout.total(), 0.0f), v(layout.total(), 0.0f);
  Adam adam;
  LearningRates lr;
  lr.means = 3e-4f;
  for (long step = 1; step <= 3; ++step) {
    GaussianModel gm = model;  // gradients shaped like the model
    for (auto* arr : {&gm.means, &gm.log_scales, &gm.rotations, &gm.opacities, &gm.sh, &gm.extras})
      for (float& x : *arr) x = 1e-3f * rng.normal();
    GaussianGradients g;
    g.means = gm.means;
    g.log_scales = gm.log_scales;
    g.rotations = gm.rotations;
    g.opacities = gm.opacities;
    g.sh = gm.sh;
    g.extras = gm.extras;
    adam.step(cpu, g, cs, lr);
    // What cuda_fused_adam computes on the host, then the kernel's body per element.
    const float bc1 = 1.0f - std::pow(adam.beta1, float(step)), bc2 = 1.0f - std::pow(adam.beta2, float(step));
    const float rates[kAdamGroups] = {lr.means, lr.log_scales, lr.rotations, lr.opacities, lr.sh_dc, lr.sh_rest,
                                      lr.extras};
    te::AdamConstants a;
    for (int k = 0; k < kAdamGroups; ++k) a.step_size[k] = rates[k] / bc1;
    a.inv_sqrt_bc2 = 1.0f / std::sqrt(bc2);
    a.b1 = adam.beta1;
    a.b2 = adam.beta2;
    a.eps = adam.eps;
    const std::vector<float> flat_g = flatten(gm);
    for (size_t i = 0; i < layout.total(); ++i) te::adam(i, layout, a, p.data(), flat_g.data(), m.data(), v.data());
  }
  EXPECT_EQ(p, flatten(cpu));  // same float operations in the same order: bit-identical on the CPU
  EXPECT_EQ(m, flatten(cs.m));
  EXPECT_EQ(v, flatten(cs.v));
}

TEST(TrainElements, EmulatedDensifyStatisticsMatchCpu) {
  Rng rng(4);
  const size_t n = 300;
  DensityController cpu;
  cpu.resize(n);
  std::vector<float> acc(n, 0.0f), cnt(n, 0.0f), mr(n, 0.0f);
  for (int view = 0; view < 3; ++view) {
    RenderOutput out;
    out.radii.resize(n);
    for (int& r : out.radii) r = rng.uniform() < 0.3f ? 0 : int(1 + 40 * rng.uniform());
    GaussianGradients g;
    g.means2d.resize(2 * n);
    for (float& x : g.means2d) x = 1e-4f * rng.normal();
    cpu.accumulate(out, g, 320, 240 + view);
    for (size_t i = 0; i < n; ++i)
      te::densify_stats(i, out.radii.data(), g.means2d.data(), 0.5f * 320.0f, 0.5f * float(240 + view), acc.data(),
                        cnt.data(), mr.data());
  }
  EXPECT_EQ(acc, cpu.grad_accum);
  EXPECT_EQ(cnt, cpu.visible_count);
  EXPECT_EQ(mr, cpu.max_radius);
}

}  // namespace
}  // namespace sp
