#pragma once
// The training step's kernels besides rasterization (cuda/train_kernels.cu), each the GPU
// counterpart of a CPU function of engine/train, which stays the reference:
//   photometric loss  L = (1 - λ) L1 + λ (1 - SSIM_train) and dL/d(render)
//                     ↔ photometric_loss (engine/train/losses.h; 11-tap separable Gaussian,
//                       zero padding, map averaged over every pixel)
//   fused Adam        one kernel over the flat parameter buffer (cuda/flat_params.h)
//                     ↔ Adam::step (engine/train/adam.h), same bias-corrected formulation
//   densification statistics  ↔ DensityController::accumulate (engine/train/densify.h)
// Device pointers are plain pointers; no CUDA types here. The *_host functions upload,
// run and download, for the comparison tests (tests/cuda/test_cuda_train_kernels.cpp).
#include <memory>

#include "cuda/flat_params.h"
#include "engine/train/adam.h"
#include "engine/train/densify.h"
#include "engine/train/losses.h"

namespace sp {

// L1 + D-SSIM on device images (H x W x C, HWC). Scratch is kept between calls (a training
// loop calls it at one size); the loss sums stay on the device until values() reads them.
class CudaPhotometricLoss {
 public:
  CudaPhotometricLoss();
  ~CudaPhotometricLoss();
  CudaPhotometricLoss(const CudaPhotometricLoss&) = delete;
  CudaPhotometricLoss& operator=(const CudaPhotometricLoss&) = delete;

  // Writes dL/d(render) into `grad` (device, H x W x C), times `grad_scale`. Asynchronous.
  void compute(int width, int height, int channels, const float* render, const float* target, float ssim_weight,
               float* grad, float grad_scale = 1.0f);
  struct Values {
    double value = 0, l1 = 0, ssim = 0;
    double mse = 0;  // mean squared error (the progress line's PSNR)
  };
  // The last compute()'s values (synchronizes: one small read back).
  Values values() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One Adam step over the flat buffers p, g, m, v (device, layout.total() floats each), with
// the CPU's hyper-parameters, bias corrections (computed on the host as the CPU does) and
// learning-rate groups. `step` is the step number after increment (1 for the first).
void cuda_fused_adam(const FlatLayout& layout, float* p, const float* g, float* m, float* v, const LearningRates& lr,
                     float beta1, float beta2, float eps, long step);

// DensityController::accumulate on device arrays (each N long; means2d N x 2).
void cuda_accumulate_densify_stats(size_t n, const int* radii, const float* means2d_grad, int width, int height,
                                   float* grad_accum, float* visible_count, float* max_radius);

// Host wrappers (upload, run, download) for the comparison tests.
PhotometricLoss cuda_photometric_loss_host(const Image& render, const Image& target, float ssim_weight = 0.2f);
void cuda_adam_step_host(const Adam& adam, GaussianModel& model, const GaussianGradients& grads, AdamState& state,
                         const LearningRates& lr);
void cuda_accumulate_densify_stats_host(const std::vector<int>& radii, const std::vector<float>& means2d_grad,
                                        int width, int height, DensityController& stats);

}  // namespace sp
