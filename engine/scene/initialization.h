#pragma once
// Initial Gaussians: from SfM points, or random inside the train cameras' view volume
// (COLMAP often fails on 3 views, and sparse-view methods such as DNGaussian start random).
#include <cstdint>
#include <string>
#include <vector>

#include "engine/core/camera.h"
#include "engine/scene/dataset.h"
#include "engine/model/gaussian_model.h"
#include "engine/scene/plane_sweep.h"

namespace sp {

struct InitOptions {
  int sh_degree = 3;
  size_t random_points = 10000;   // number of Gaussians for random initialization
  float initial_opacity = 0.1f;   // INRIA: inverse_sigmoid(0.1)
  uint64_t seed = 0;
  // Keep only start points that at least this many train cameras see between the scene's
  // near and far depth (engine/scene/view_volume.h): 2 bounds the start to where two photos
  // constrain it (DNGaussian's bounded random start); 1 = anywhere a train view sees.
  int min_views = 1;
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

// The one rule that picks a reconstruction's initial Gaussians (recon, train-prior and the
// benchmarks all call it). method:
//   sfm     the dataset's SfM points (BadInput when fewer than 4 are usable)
//   mvs     plane-sweep stereo over the train views (random points when it finds too few)
//   random  random_points_in_view_volume
//   auto    sfm when >= dense_sfm_points SfM points are seen by the train views (the demo
//           scene: 19.8 dB from its points, 15.5 dB from plane sweep); else mvs for 2..9
//           train views (SfM from a handful of photos is thin or absent); else sfm when
//           usable points exist; else random
struct InitPolicy {
  std::string method = "auto";
  InitOptions gaussians;             // SH degree, random point count, seed
  size_t dense_sfm_points = 1000;
  PlaneSweepOptions mvs;             // its seed is replaced by gaussians.seed
};

struct InitialModel {
  GaussianModel model;
  std::string method;       // what ran: sfm, mvs or random
  std::string description;  // "11604 Gaussians from SfM points", for the log
  // The plane sweep's consistent depth maps of the train views (train_ids order; mvs only),
  // for a depth prior during training.
  std::vector<DepthMap> depth_maps;
};

// A depth map at its camera's size resampled to `width` x `height` (nearest; 0 = no depth).
std::vector<float> depth_at_size(const DepthMap& map, int width, int height);

// BadInput for an unknown method or an sfm start without points.
InitialModel choose_initial_model(const Dataset& dataset, const InitPolicy& policy);

}  // namespace sp
