#pragma once
// The dark backdrop of a DTU-style rig (DTU, SpaRe: an object on a table in front of black
// cloth), found in each train photo without masks, so that training can make it
// transparent instead of explaining it with sheets of dark Gaussians near the cameras
// (docs/sparse_view.md "Backdrop"). The rule is DNGaussian's and CoR-GS's for DTU: a pixel
// is backdrop when its brightest channel is below `threshold` and so is every pixel of the
// `column` pixels above it (or up to the top edge), which keeps dark shadows and dark
// object parts below something bright out of the backdrop.
#include "engine/core/image.h"

namespace sp {

struct BackdropOptions {
  float threshold = 30.0f / 255.0f;  // brightest channel below this (DNGaussian: 30/255)
  int column = 49;                   // this many pixels above must be dark too (DNGaussian: 49)
};

// 1 channel at the image's size: 1 on the backdrop, 0 elsewhere.
Image dark_backdrop_mask(const Image& rgb, const BackdropOptions& options = {});

}  // namespace sp
