#pragma once
// Photometric training losses and their exact gradients with respect to the render.
//
// INRIA 3DGS trains with  L = (1 - λ) L1 + λ (1 - SSIM_train),  λ = 0.2, where
//   L1         = mean |render - target| over all pixels and channels, and
//   SSIM_train = INRIA's training SSIM (utils/loss_utils.py): 11x11 Gaussian window
//                (σ = 1.5), C1 = 0.01², C2 = 0.03², moments by 'same' convolution with
//                ZERO padding (F.conv2d padding = 5), map averaged over EVERY pixel and
//                channel, borders included.
// This differs from the evaluation SSIM (engine/eval/metrics.h: 'valid' region only, as
// scikit-image / pytorch-msssim report): near the border the zero padding pulls the means
// toward 0, so SSIM_train(x, y) != ssim(x, y) in general (both are 1 for x == y). Training
// uses INRIA's so that its learning dynamics, and published training curves, carry over.
//
// Images are HWC floats (engine/core/image.h); the render and target must have the same
// shape. Loss values are summed in double and in a fixed order (thread-count independent).
#include "engine/core/image.h"

namespace sp {

struct PhotometricLoss {
  double value = 0;  // (1 - λ) l1 + λ (1 - ssim)
  double l1 = 0;
  double ssim = 0;   // SSIM_train
  Image grad;        // dL/d(render), shaped like the render
};

// The INRIA training loss and its gradient. λ = ssim_weight.
PhotometricLoss photometric_loss(const Image& render, const Image& target, float ssim_weight = 0.2f);

// mean |render - target|; grad (if given, resized) = sign(render - target) / count, with
// sign(0) = 0 as in PyTorch.
double l1_loss(const Image& render, const Image& target, Image* grad = nullptr);

// SSIM_train(render, target); grad (if given, resized) = dSSIM_train / d(render).
double ssim_train(const Image& render, const Image& target, Image* grad = nullptr);

// The kernels on raw HWC arrays, in float (training) and double (finite-difference
// checks). When grad is non-null they write (accumulate = false) or add (accumulate =
// true) scale * d(loss)/d(a) into it, so several terms can share one gradient buffer.
//
// `pixel_weight` (optional, width x height, one value per pixel for every channel) weighs
// each pixel's term; the mean still divides by the full pixel count, so a weight of 0
// removes a pixel's loss and gradient without inflating the others.
template <class T>
double l1_loss_raw(int width, int height, int channels, const T* a, const T* b, T* grad, T scale, bool accumulate,
                   const T* pixel_weight = nullptr);
template <class T>
double ssim_train_raw(int width, int height, int channels, const T* a, const T* b, T* grad, T scale, bool accumulate,
                      const T* pixel_weight = nullptr);

// The photometric loss restricted by a per-pixel weight in [0, 1] (1 channel, the render's
// size; empty = every pixel, identical to photometric_loss):
//   L = mean over pixels and channels of  w * ((1 - λ)|render - target| + λ (1 - S)),
// S the SSIM_train map. Pseudo targets use it: pixels outside their mask carry no loss.
PhotometricLoss masked_photometric_loss(const Image& render, const Image& target, const Image& weight,
                                        float ssim_weight = 0.2f);

}  // namespace sp
