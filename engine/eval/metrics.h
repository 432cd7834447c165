#pragma once
// Image quality metrics for evaluation, on float images in [0, 1] (data range 1), with
// the conventions of the published sparse-view numbers (scikit-image / pytorch-msssim).
#include <vector>

#include "engine/core/image.h"

namespace sp {

// Mean squared error over all pixels and channels; with a mask (1 channel, or channel 0
// of a multi-channel image, same width and height) over the pixels where mask > 0.5 only.
// BadInput if the sizes differ or the mask selects no pixel.
double mse(const Image& a, const Image& b, const Image* mask = nullptr);

// 10 log10(1 / mse); +inf for identical images.
double psnr(const Image& a, const Image& b, const Image* mask = nullptr);

// Mean SSIM (Wang et al. 2004) with an 11x11 Gaussian window (sigma 1.5, taps at -5..5,
// normalized), C1 = 0.01^2, C2 = 0.03^2, population (not sample) covariances, computed per
// channel and averaged over channels.
//
// Border convention (evaluation): the SSIM map is averaged only over pixels whose whole
// window lies inside the image, i.e. the (W-10) x (H-10) 'valid' region. This is exactly
// scikit-image's structural_similarity(a, b, channel_axis=2, data_range=1,
// gaussian_weights=True, sigma=1.5, use_sample_covariance=False) (it filters with
// reflection, then crops pad = 5 pixels from every side, so padding never enters the
// mean) and pytorch-msssim's ssim() ('valid' convolution). The training loss uses a
// different convention (zero padding, whole map): see engine/train/losses.h.
// Computed in double. BadInput if the sizes differ or the image is smaller than 11x11.
double ssim(const Image& a, const Image& b);

// Object-masked scores of the DTU sparse-view tables (DNGaussian's and CoR-GS's
// metrics_dtu.py, which FSGS, CoR-GS and Binocular3DGS report): render and ground truth are
// both composited on white outside the object, x * m + (1 - m) with the fractional mask m
// resampled to the image size; PSNR counts only the pixels fully inside (m == 1); SSIM is
// taken over the whole composited frame. `mask`: 1 channel (or channel 0), same width and
// height. BadInput if the sizes differ or no pixel is fully inside.
struct ObjectMaskedScores {
  double psnr = 0, ssim = 0;
};
ObjectMaskedScores object_masked_scores(const Image& render, const Image& gt, const Image& mask);
// Its PSNR alone (training's held-out checkpoints need no SSIM).
double object_masked_psnr(const Image& render, const Image& gt, const Image& mask);

// img * m + background * (1 - m), per pixel, with m = mask channel 0 clamped to [0, 1].
Image composite_outside_mask(const Image& img, const Image& mask, float background = 1.0f);

// A pixel rectangle [x0, x1) x [y0, y1).
struct PixelBox {
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  int width() const { return x1 - x0; }
  int height() const { return y1 - y0; }
  bool empty() const { return x1 <= x0 || y1 <= y0; }
};
// The tight bounding box of the pixels with mask channel 0 > 0.5 (empty when there is none),
// grown about its centre to at least `min_side` pixels per side where the image allows
// (shifted inward at the borders).
PixelBox mask_bounding_box(const Image& mask, int min_side = 1);
Image crop(const Image& img, const PixelBox& box);

// The normalized 11-tap Gaussian (sigma 1.5) both SSIMs filter with (the training loss too).
constexpr int kSsimWindow = 11;
std::vector<double> ssim_gaussian_window();

}  // namespace sp
