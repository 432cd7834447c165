#pragma once
// Fitting one photo's colour code with the Gaussians frozen (docs/in_the_wild.md): the
// render does not change while only the code does, so the best affine map from the render
// to the photo is a small regression, solved exactly in closed form instead of by gradient
// steps. Iteratively reweighted (weights 1 / max(|residual|, 1/255), an L1 fit) so that a
// person in front of the photo's camera does not pull the colours. Used by
// `render --appearance-from` and by the PhotoTourism protocol (fit on the left half of a
// test photo, score the right half).
#include <vector>

#include "engine/core/image.h"

namespace sp {

// The code (engine/train/appearance.h layout) taking `render` closest to `photo` over the
// pixels where `region` (1 channel, the images' size; empty = all) is > 0.5. Both RGB, same
// size. A ridge of 1e-4 per pixel toward the identity keeps flat regions well posed.
std::vector<float> fit_appearance_code(const Image& render, const Image& photo, const Image& region = {},
                                       int reweighting_rounds = 5);

}  // namespace sp
