#pragma once
// Binocular3DGS's self-supervised consistency term: a train camera shifted sideways by d
// (same rotation and intrinsics) is rendered, and that render is warped back into the train
// view with the train view's own rendered depth, u' = u - fx d / z, to be compared with the
// photo. The photo explains the warp only when the depth is right, so Gaussians floating in
// front of the scene (right in the three photos, wrong between them) pay for it.
// Templated on the scalar so the test checks the gradients against finite differences in
// double.
#include <cstddef>

namespace sp {

// Inputs, all width x height, row-major: `shifted` the shifted render (3 channels,
// interleaved), `depth` and `alpha` the train view's rendered alpha-weighted depth and
// alpha, `photo` the train photo (3 channels); `fx_shift` = fx * d in pixel x depth units.
// z = depth / alpha where alpha >= min_alpha (other pixels and warps leaving the image
// carry nothing). Value: mean over the valid pixels and channels of |warped - photo|.
// Adds weight x the gradient into grad_shifted (3 channels), grad_depth and grad_alpha
// (each may be null). Bilinear sampling in x; the derivative of the sample with respect to
// u' is the slope of the segment it falls on.
template <class T>
double binocular_consistency(int width, int height, const T* shifted, const T* depth, const T* alpha, const T* photo,
                             T fx_shift, T min_alpha, T* grad_shifted, T* grad_depth, T* grad_alpha, T weight);

}  // namespace sp
