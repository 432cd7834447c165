// sparsplat info: what is in a dataset folder or a Gaussian PLY.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "engine/core/error.h"
#include "engine/io/gaussian_ply.h"
#include "tools/sparsplat/common.h"

namespace sp::cli {
namespace fs = std::filesystem;

namespace {
void ply_info(const std::string& path) {
  const GaussianModel m = read_gaussian_ply(path);
  std::printf("Gaussian PLY %s\n  Gaussians: %zu\n  SH degree: %d\n  extra channels: %d\n", path.c_str(), m.size(),
              m.sh_degree, m.extra_channels);
  if (m.size() == 0) return;
  glm::vec3 lo(INFINITY), hi(-INFINITY);
  double opacity = 0, scale = 0;
  for (size_t i = 0; i < m.size(); ++i) {
    for (int d = 0; d < 3; ++d) {
      lo[d] = std::min(lo[d], m.means[i * 3 + size_t(d)]);
      hi[d] = std::max(hi[d], m.means[i * 3 + size_t(d)]);
      scale += std::exp(double(m.log_scales[i * 3 + size_t(d)])) / 3.0;
    }
    opacity += 1.0 / (1.0 + std::exp(-double(m.opacities[i])));
  }
  std::printf("  bounds: [%.3f %.3f %.3f] .. [%.3f %.3f %.3f]\n  mean opacity: %.3f\n  mean scale: %.4g\n", lo.x, lo.y,
              lo.z, hi.x, hi.y, hi.z, opacity / double(m.size()), scale / double(m.size()));
}

void dataset_info(const DatasetArgs& args) {
  const Dataset d = load_dataset(args);
  std::printf("dataset %s\n  format: %s\n  views: %zu\n  resolution: %dx%d\n  split: %zu train, %zu test (%s)\n",
              d.root.c_str(), d.format.c_str(), d.size(), d.cameras.empty() ? 0 : d.cameras[0].width,
              d.cameras.empty() ? 0 : d.cameras[0].height, d.train_ids.size(), d.test_ids.size(), d.protocol.c_str());
  std::printf("  train ids:");
  for (int i : d.train_ids) std::printf(" %d", i);
  std::printf("\n  test ids:");
  for (int i : d.test_ids) std::printf(" %d", i);
  std::printf("\n  SfM points: %zu%s\n  scene extent: %.4g\n", d.points.size(),
              d.points_from_train_views_only ? " (seen by >= 2 train views)" : "", d.scene_extent());
  if (!d.cameras.empty()) {
    const Camera& c = d.cameras[0];
    std::printf("  first camera: %s fx %.2f fy %.2f cx %.2f cy %.2f\n", c.name.c_str(), c.fx, c.fy, c.cx, c.cy);
  }
}
}  // namespace

int run_info(const InfoArgs& args) {
  if (!fs::exists(args.path)) throw_bad_input(args.path, "no such file or folder");
  if (fs::is_regular_file(args.path)) {
    if (fs::path(args.path).extension() != ".ply") throw_bad_input(args.path, "expected a .ply file or a dataset folder");
    ply_info(args.path);
  } else {
    dataset_info(args.data);
  }
  return 0;
}

}  // namespace sp::cli
