#pragma once
// Nearest-neighbour operations on Gaussian centres for sparse-view density control:
//  - co-pruning (CoR-GS): drop Gaussians of one field with no close counterpart in another;
//  - proximity-guided unpooling (FSGS): grow new Gaussians on the edges between a Gaussian
//    and its K nearest neighbours where those neighbours are far apart (sparse regions).
// Both are deterministic (a KD-tree over the centres, nanoflann).
#include <cstddef>
#include <vector>

#include "engine/model/gaussian_model.h"
#include "engine/train/adam.h"

namespace sp {

// Per centre of `query` (N x 3), the distance to the nearest centre of `points` (M x 3);
// `exclude_self`: query and points are the same array and a point is not its own neighbour.
std::vector<float> nearest_distances(const std::vector<float>& query, const std::vector<float>& points,
                                     bool exclude_self = false);

// CoR-GS co-pruning mask: keep[i] is false where Gaussian i of `field` has no centre of
// `other` within `tau`.
std::vector<bool> co_pruning_keep(const GaussianModel& field, const GaussianModel& other, float tau);

// The distance threshold used by the trainer: `factor` x the median nearest-neighbour
// distance inside `field` (scale-free: CoR-GS's tau = 5 is in its own normalized units).
float median_neighbour_distance(const GaussianModel& field);

struct UnpoolingOptions {
  int neighbours = 3;          // K (FSGS)
  float score_factor = 3.0f;   // grow where the proximity score exceeds this x its median
  size_t max_new = 20000;      // cap per call (the Gaussians with the highest scores first)
};

// FSGS unpooling: proximity score of Gaussian i = mean distance to its K nearest neighbours;
// where it exceeds the threshold, a new Gaussian is appended at the midpoint of each edge
// (i, neighbour), a copy of the neighbour (its scale, opacity, colour) moved there; Adam
// moments of the new ones are zero. Returns how many were added.
size_t unpool(GaussianModel& model, AdamState& adam, const UnpoolingOptions& options);

}  // namespace sp
