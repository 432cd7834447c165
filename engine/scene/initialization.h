#pragma once
// Initial Gaussians: from SfM points, or random inside the train cameras' view volume
// (COLMAP often fails on 3 views, and sparse-view methods such as DNGaussian start random).
#include <cstdint>
#include <vector>

#include "engine/core/camera.h"
#include "engine/scene/dataset.h"
#include "engine/scene/gaussian_model.h"

namespace sp {

struct InitOptions {
  int sh_degree = 3;
  size_t random_points = 10000;   // number of Gaussians for random initialization
  float initial_opacity = 0.1f;   // INRIA: inverse_sigmoid(0.1)
  uint64_t seed = 0;
};

// One isotropic Gaussian per point: scale = sqrt(mean squared distance to the 3 nearest
// neighbours) (INRIA's distCUDA2), identity rotation, colour from the point.
GaussianModel gaussians_from_points(const PointCloud& points, const InitOptions& options);

// Points uniformly spread over the train cameras' frusta between the scene's near and far
// depth (Dataset::near_depth/far_depth, or a range estimated from the camera layout),
// with grey colours plus a little noise.
PointCloud random_points_in_view_volume(const Dataset& dataset, const InitOptions& options);

// Depth range [near, far] used for random points: the dataset's when known, else from
// where the train cameras' optical axes meet (object-centric captures).
void estimate_depth_range(const Dataset& dataset, float& near_depth, float& far_depth);

}  // namespace sp
