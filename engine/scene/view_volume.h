#pragma once
// The region a set of photos constrains: how many train cameras see a point (in front of
// the camera between a near and a far depth, and inside its image). Sparse-view starts keep
// points at least two photos see, and training prunes Gaussians that wander out of that
// region (docs/sparse_view.md "Bounded region"), as DNGaussian bounds its random start.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/core/camera.h"

namespace sp {

// Per point of `xyz` (n x 3): the number of `cameras` with near < z < far (far <= 0: no far
// bound) whose image contains its projection.
std::vector<uint8_t> views_seeing(const float* xyz, size_t n, const std::vector<Camera>& cameras, float near_depth,
                                  float far_depth);

}  // namespace sp
