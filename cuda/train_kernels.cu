// The training step's kernels besides rasterization (see cuda_train_kernels.h). Each
// mirrors its CPU reference line by line; simple one-thread-per-element kernels, sums in
// double through a block reduction and one atomicAdd per block.
#include <cuda_runtime.h>

#include <cmath>
#include <vector>

#include "cuda/cuda_train_kernels.h"
#include "cuda/device_buffer.cuh"
#include "cuda/train_elements.h"
#include "engine/eval/metrics.h"  // ssim_gaussian_window

namespace sp {

using cuda_detail::blocks_for;
using cuda_detail::DeviceBuffer;

namespace {

constexpr int kThreads = 256;  // block_add assumes this block size
using train_elements::AdamConstants;
using train_elements::kTaps;
using train_elements::Taps;
static_assert(kTaps == kSsimWindow);

Taps ssim_taps() {
  const std::vector<double> g = ssim_gaussian_window();
  Taps t;
  for (int k = 0; k < kTaps; ++k) t.g[k] = float(g[size_t(k)]);  // the CPU's float taps
  return t;
}

// Adds v of every thread of the block into *target (one atomic per block). Every thread of
// the block must call it.
__device__ void block_add(double v, double* target) {
  __shared__ double s[kThreads];
  __syncthreads();
  s[threadIdx.x] = v;
  __syncthreads();
  for (int o = kThreads / 2; o > 0; o /= 2) {
    if (int(threadIdx.x) < o) s[threadIdx.x] += s[threadIdx.x + o];
    __syncthreads();
  }
  if (threadIdx.x == 0 && s[0] != 0.0) atomicAdd(target, s[0]);
}

__device__ inline size_t global_index() { return size_t(blockIdx.x) * blockDim.x + threadIdx.x; }

// ---- L1 + D-SSIM (losses.cpp: l1_loss_raw, ssim_train_raw); bodies in train_elements.h ----

__global__ void ssim_pack_kernel(int n, int nc, const float* a, const float* b, float* in) {
  const size_t idx = global_index();
  if (idx < size_t(n) * nc) train_elements::ssim_pack(idx, n, nc, a, b, in);
}

__global__ void filter_rows_kernel(int w, size_t rows, const float* src, float* dst, Taps t) {
  const size_t idx = global_index();
  if (idx < rows * size_t(w)) train_elements::filter_row(idx, w, src, dst, t);
}

__global__ void filter_cols_kernel(int w, int h, int planes, const float* src, float* dst, Taps t) {
  const size_t idx = global_index();
  if (idx < size_t(w) * h * size_t(planes)) train_elements::filter_col(idx, w, h, src, dst, t);
}

// Σ S into sums[1].
__global__ void ssim_map_kernel(int n, int nc, const float* mom, float* in, double* sums) {
  const size_t idx = global_index();  // plane-major: c * n + px
  double s = 0.0;
  if (idx < size_t(n) * nc) s = double(train_elements::ssim_map(idx, n, nc, mom, in));
  block_add(s, sums + 1);
}

// Σ|a - b| into sums[0], Σ(a - b)² into sums[2].
__global__ void loss_grad_kernel(int n, int nc, const float* a, const float* b, const float* back, float lambda,
                                 float grad_scale, float* grad, double* sums) {
  const size_t idx = global_index();  // HWC index
  double abs_d = 0.0;
  if (idx < size_t(n) * nc) train_elements::loss_grad(idx, n, nc, a, b, back, lambda, grad_scale, grad, &abs_d);
  block_add(abs_d, sums);
  block_add(abs_d * abs_d, sums + 2);
}

// ---- fused Adam (adam.cpp: adam_array) ----------------------------------------------------

__global__ void fused_adam_kernel(FlatLayout layout, AdamConstants a, float* p, const float* g, float* m, float* v) {
  const size_t i = global_index();
  if (i < layout.total()) train_elements::adam(i, layout, a, p, g, m, v);
}

// ---- densification statistics (densify.cpp: DensityController::accumulate) ----------------

__global__ void densify_stats_kernel(size_t n, const int* radii, const float* means2d, float sx, float sy,
                                     float* grad_accum, float* visible_count, float* max_radius) {
  const size_t i = global_index();
  if (i < n) train_elements::densify_stats(i, radii, means2d, sx, sy, grad_accum, visible_count, max_radius);
}

}  // namespace

struct CudaPhotometricLoss::Impl {
  DeviceBuffer<float> in, mom, tmp;
  DeviceBuffer<double> sums;  // Σ|d|, Σ S, Σ d²
  int n = 0, nc = 0;
  float lambda = 0.2f;
  Taps taps = ssim_taps();
};

CudaPhotometricLoss::CudaPhotometricLoss() : impl_(std::make_unique<Impl>()) {}
CudaPhotometricLoss::~CudaPhotometricLoss() = default;

void CudaPhotometricLoss::compute(int width, int height, int channels, const float* render, const float* target,
                                  float ssim_weight, float* grad, float grad_scale) {
  if (width <= 0 || height <= 0 || channels <= 0) throw_internal("CUDA photometric loss: empty image");
  Impl& s = *impl_;
  const int n = width * height, nc = channels;
  const size_t count = size_t(n) * nc;
  s.n = n;
  s.nc = nc;
  s.lambda = ssim_weight;
  s.in.resize(5 * count);
  s.mom.resize(5 * count);
  s.tmp.resize(5 * count);
  s.sums.resize(3);
  s.sums.zero();
  ssim_pack_kernel<<<blocks_for(count, kThreads), kThreads>>>(n, nc, render, target, s.in.get());
  SP_CUDA_LAUNCHED("ssim_pack_kernel");
  // Moments: 5 maps per channel, rows then columns.
  filter_rows_kernel<<<blocks_for(5 * count, kThreads), kThreads>>>(width, size_t(5) * nc * height, s.in.get(),
                                                                    s.tmp.get(), s.taps);
  SP_CUDA_LAUNCHED("filter_rows_kernel");
  filter_cols_kernel<<<blocks_for(5 * count, kThreads), kThreads>>>(width, height, 5 * nc, s.tmp.get(), s.mom.get(),
                                                                    s.taps);
  SP_CUDA_LAUNCHED("filter_cols_kernel");
  ssim_map_kernel<<<blocks_for(count, kThreads), kThreads>>>(n, nc, s.mom.get(), s.in.get(), s.sums.get());
  SP_CUDA_LAUNCHED("ssim_map_kernel");
  // Back through the (self-adjoint) filter: the 3 derivative maps, planes 2nc..5nc of `in`.
  const float* d_maps = s.in.get() + size_t(2) * count;
  filter_rows_kernel<<<blocks_for(3 * count, kThreads), kThreads>>>(width, size_t(3) * nc * height, d_maps,
                                                                    s.tmp.get(), s.taps);
  SP_CUDA_LAUNCHED("filter_rows_kernel");
  filter_cols_kernel<<<blocks_for(3 * count, kThreads), kThreads>>>(width, height, 3 * nc, s.tmp.get(), s.mom.get(),
                                                                    s.taps);
  SP_CUDA_LAUNCHED("filter_cols_kernel");
  loss_grad_kernel<<<blocks_for(count, kThreads), kThreads>>>(n, nc, render, target, s.mom.get(), ssim_weight,
                                                              grad_scale, grad, s.sums.get());
  SP_CUDA_LAUNCHED("loss_grad_kernel");
}

CudaPhotometricLoss::Values CudaPhotometricLoss::values() const {
  const Impl& s = *impl_;
  double sums[3] = {0, 0, 0};
  if (s.sums.size() == 3) s.sums.download(sums, 3);
  const double count = double(s.n) * s.nc;
  Values v;
  if (count <= 0) return v;
  v.l1 = sums[0] / count;
  v.ssim = sums[1] / count;
  v.mse = sums[2] / count;
  v.value = (1.0 - double(s.lambda)) * v.l1 + double(s.lambda) * (1.0 - v.ssim);
  return v;
}

void cuda_fused_adam(const FlatLayout& layout, float* p, const float* g, float* m, float* v, const LearningRates& lr,
                     float beta1, float beta2, float eps, long step) {
  if (layout.total() == 0) return;
  // The bias corrections exactly as adam.cpp computes them (float pow on the host).
  const float bc1 = 1.0f - std::pow(beta1, float(step)), bc2 = 1.0f - std::pow(beta2, float(step));
  const float rates[kAdamGroups] = {lr.means, lr.log_scales, lr.rotations, lr.opacities,
                                    lr.sh_dc, lr.sh_rest,    lr.extras};
  AdamConstants a;
  for (int k = 0; k < kAdamGroups; ++k) a.step_size[k] = rates[k] / bc1;
  a.inv_sqrt_bc2 = 1.0f / std::sqrt(bc2);
  a.b1 = beta1;
  a.b2 = beta2;
  a.eps = eps;
  fused_adam_kernel<<<blocks_for(layout.total(), kThreads), kThreads>>>(layout, a, p, g, m, v);
  SP_CUDA_LAUNCHED("fused_adam_kernel");
}

void cuda_accumulate_densify_stats(size_t n, const int* radii, const float* means2d_grad, int width, int height,
                                   float* grad_accum, float* visible_count, float* max_radius) {
  if (n == 0) return;
  // INRIA differentiates with respect to NDC coordinates: d(pixel)/d(ndc) = size / 2.
  densify_stats_kernel<<<blocks_for(n, kThreads), kThreads>>>(n, radii, means2d_grad, 0.5f * float(width),
                                                              0.5f * float(height), grad_accum, visible_count,
                                                              max_radius);
  SP_CUDA_LAUNCHED("densify_stats_kernel");
}

// ---- host wrappers ---------------------------------------------------------------------------

PhotometricLoss cuda_photometric_loss_host(const Image& render, const Image& target, float ssim_weight) {
  if (render.width != target.width || render.height != target.height || render.channels != target.channels)
    throw_internal("cuda_photometric_loss_host: render and target differ in shape");
  const size_t count = render.pixels.size();
  DeviceBuffer<float> a, b, g;
  a.upload(render.pixels.data(), count);
  b.upload(target.pixels.data(), count);
  g.resize(count);
  CudaPhotometricLoss loss;
  loss.compute(render.width, render.height, render.channels, a.get(), b.get(), ssim_weight, g.get());
  PhotometricLoss out;
  out.grad = Image(render.width, render.height, render.channels);
  g.download(out.grad.pixels.data(), count);
  const CudaPhotometricLoss::Values v = loss.values();
  out.value = v.value;
  out.l1 = v.l1;
  out.ssim = v.ssim;
  return out;
}

void cuda_adam_step_host(const Adam& adam, GaussianModel& model, const GaussianGradients& grads, AdamState& state,
                         const LearningRates& lr) {
  GaussianModel g;  // the gradients as a model, to flatten them the same way
  g.sh_degree = model.sh_degree;
  g.extra_channels = model.extra_channels;
  g.means = grads.means;
  g.log_scales = grads.log_scales;
  g.rotations = grads.rotations;
  g.opacities = grads.opacities;
  g.sh = grads.sh;
  g.extras = grads.extras;
  const FlatLayout layout = FlatLayout::of(model.size(), model.sh_coeffs(), model.extra_channels);
  const std::vector<float> hp = flatten(model), hg = flatten(g), hm = flatten(state.m), hv = flatten(state.v);
  DeviceBuffer<float> p, dg, m, v;
  p.upload(hp.data(), hp.size());
  dg.upload(hg.data(), hg.size());
  m.upload(hm.data(), hm.size());
  v.upload(hv.data(), hv.size());
  ++state.step;
  cuda_fused_adam(layout, p.get(), dg.get(), m.get(), v.get(), lr, adam.beta1, adam.beta2, adam.eps, state.step);
  std::vector<float> out(layout.total());
  p.download(out.data(), out.size());
  unflatten(out, model.size(), model);
  m.download(out.data(), out.size());
  unflatten(out, model.size(), state.m);
  v.download(out.data(), out.size());
  unflatten(out, model.size(), state.v);
}

void cuda_accumulate_densify_stats_host(const std::vector<int>& radii, const std::vector<float>& means2d_grad,
                                        int width, int height, DensityController& stats) {
  const size_t n = radii.size();
  if (means2d_grad.size() != 2 * n) throw_internal("cuda_accumulate_densify_stats_host: means2d size mismatch");
  if (stats.grad_accum.size() != n) stats.resize(n);
  DeviceBuffer<int> r;
  DeviceBuffer<float> g, acc, cnt, mr;
  r.upload(radii.data(), n);
  g.upload(means2d_grad.data(), 2 * n);
  acc.upload(stats.grad_accum.data(), n);
  cnt.upload(stats.visible_count.data(), n);
  mr.upload(stats.max_radius.data(), n);
  cuda_accumulate_densify_stats(n, r.get(), g.get(), width, height, acc.get(), cnt.get(), mr.get());
  acc.download(stats.grad_accum.data(), n);
  cnt.download(stats.visible_count.data(), n);
  mr.download(stats.max_radius.data(), n);
}

}  // namespace sp
