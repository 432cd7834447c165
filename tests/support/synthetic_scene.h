#pragma once
// A small scene with exact ground truth for training tests: a "true" Gaussian model is
// rendered by the CPU rasterizer from cameras on a ring around it, and written as a COLMAP
// text model (PINHOLE cameras, poses, points = the true means seen by every view) with PNG
// images, the layout `sparsplat recon` reads.
#include <string>

#include "engine/scene/dataset.h"
#include "engine/model/gaussian_model.h"

namespace sp::test {

struct SyntheticSceneOptions {
  int views = 12;
  int width = 96, height = 72;
  int gaussians = 300;
  unsigned seed = 7;
};

// The small scene the pipeline and reliability tests train on in seconds: 8 views on a ring,
// 48x36, 120 Gaussians.
inline SyntheticSceneOptions small_ring_scene() {
  SyntheticSceneOptions o;
  o.views = 8;
  o.width = 48;
  o.height = 36;
  o.gaussians = 120;
  return o;
}

// Writes the scene under `dir` (images/, sparse/0/*.txt) and returns the true model.
GaussianModel write_synthetic_colmap_scene(const std::string& dir, const SyntheticSceneOptions& options = {});

// A random start: `points` points in the train views' common volume
// (random_points_in_view_volume), as Gaussians of this SH degree; `seed` as InitOptions.
GaussianModel random_start(const Dataset& data, size_t points, int sh_degree = 1, uint64_t seed = 0);

// Mean PSNR of `model` over the dataset's test views (CPU rasterizer, this SH degree).
double mean_test_psnr(const Dataset& data, const GaussianModel& model, int sh_degree);

}  // namespace sp::test
