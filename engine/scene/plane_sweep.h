#pragma once
// Dense initialization from the train views alone: plane-sweep multi-view stereo. SfM on 3
// views gives few or no points; a depth map per train view, swept over fronto-parallel
// planes with windowed NCC against the other train views, filtered for cross-view
// geometric consistency and back-projected, gives a dense coloured cloud instead.
// See docs/sparse_view.md.
#include <cstdint>
#include <vector>

#include "engine/core/camera.h"
#include "engine/core/image.h"
#include "engine/scene/dataset.h"

namespace sp {

struct PlaneSweepOptions {
  int depth_planes = 128;        // hypotheses, uniform in inverse depth between near and far
  int max_side = 400;            // sweep at this longest side at most (images are box-downsampled)
  int window_radius = 3;         // NCC window (2r+1)^2
  float min_ncc = 0.6f;          // a pixel's best score must reach this to be kept
  float min_texture = 0.01f;     // standard deviation of the reference window (grey, [0,1])
  // Cross-view check: the depth reprojected through another view's depth map must come back
  // within this many pixels and this relative depth.
  float max_reprojection_px = 1.5f;
  float max_relative_depth = 0.01f;
  int min_consistent_views = 1;  // other views that must agree (geometric consistency)
  size_t max_points = 60000;     // fused cloud is subsampled (evenly, seeded) to this many
  float near_depth = 0, far_depth = 0;  // 0: the dataset's range (estimate_depth_range)
  uint64_t seed = 0;
};

// A depth map of one view at the sweep resolution; depth 0 = no estimate.
struct DepthMap {
  Camera camera;              // the view's camera resized to the map's size
  std::vector<float> depth;   // width * height, camera z
  std::vector<float> score;   // best photo-consistency (NCC in [-1, 1]); -1 where none
  int width() const { return camera.width; }
  int height() const { return camera.height; }
};

// Plane sweep for view `ref` of `cameras` against every other listed view (images are
// RGB at their camera's size; sizes and intrinsics may differ per view). Winner-take-all over the planes with a
// parabolic sub-plane refinement; per pixel the score is the best NCC over the other views
// (with 3 views a pixel is often seen by only one of the two others). Pixels below
// min_ncc or min_texture get depth 0.
DepthMap plane_sweep_depth(const std::vector<Camera>& cameras, const std::vector<Image>& images, int ref,
                           float near_depth, float far_depth, const PlaneSweepOptions& options);

// Zeroes the depth of pixels that fewer than min_consistent_views other maps confirm
// (forward-backward reprojection within max_reprojection_px and max_relative_depth).
void filter_depth_consistency(std::vector<DepthMap>& maps, const PlaneSweepOptions& options);

// Back-projects every kept pixel of every map into a world point coloured from its image
// (images at the maps' sizes), subsampled to max_points.
PointCloud fuse_depth_maps(const std::vector<DepthMap>& maps, const std::vector<Image>& images,
                           const PlaneSweepOptions& options);

// The whole pipeline on a dataset's train views (their images at the dataset's size,
// downsampled to max_side): sweep, filter, fuse. Logs depth coverage and timing. With
// `depth_maps`, also the filtered depth map of each train view, in train_ids order.
PointCloud mvs_points(const Dataset& dataset, const PlaneSweepOptions& options,
                      std::vector<DepthMap>* depth_maps = nullptr);

// Box-filter downsample of an image by an integer factor (>= 1); sizes round down.
Image downsample_box(const Image& img, int factor);

}  // namespace sp
