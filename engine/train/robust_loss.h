#pragma once
// Transient occluders (docs/in_the_wild.md): RobustNeRF's trimmed photometric loss. The
// pixels whose residual is among the largest of their photo are candidates for something
// that is not part of the static scene (people, cars, flags); isolated candidates are
// texture the model has not learnt yet and stay in, compact groups leave the loss. The mask
// is a constant of each step (no gradient through it): the loss is the ordinary
// L1 + D-SSIM weighted by it (masked_photometric_loss).
//
// Chosen over SpotLessSplats' learned classifier and uncertainty-weighted losses because it
// needs no image features or extra network, costs two passes over the residual, is
// deterministic, and its decision can be written out and inspected as a binary mask.
#include "engine/core/image.h"

namespace sp {

struct RobustLossOptions {
  bool enabled = false;
  // Residuals above this quantile of the photo's residuals are candidates (RobustNeRF: 0.8).
  float inlier_quantile = 0.8f;
  // A candidate stays in when fewer than half of its 3x3 neighbours are candidates too.
  // Square patches of this size whose share of candidates is below 1 - patch_inlier_share
  // stay in entirely (edges of an otherwise well-fit patch).
  int patch = 16;
  float patch_inlier_share = 0.6f;
  // From this fraction of the run on. 0 (from the start) measured best: an occluder fitted
  // during a warm-up stays as a floater, since the masked pixels then no longer pull it out
  // (ring scene, 2 occluders per photo: 21.5 dB held out from the start, 16.3 dB from 10%,
  // 16.0 dB without the trimmed loss). The ranking is per photo, so large early residuals
  // everywhere do not mask everything.
  float from = 0.0f;
};

// 1 channel at the render's size: 1 = inlier (in the loss), 0 = treated as transient.
// Residual = mean over channels of |render - target|.
Image transient_inlier_mask(const Image& render, const Image& target, const RobustLossOptions& options);

}  // namespace sp
