#include "engine/scene/initialization.h"

#include <algorithm>
#include <cmath>

#include <nanoflann.hpp>

#include "engine/core/error.h"
#include "engine/core/log.h"
#include "engine/core/rng.h"
#include "engine/scene/view_volume.h"

namespace sp {
namespace {

struct PointAdaptor {
  const std::vector<float>& xyz;
  size_t kdtree_get_point_count() const { return xyz.size() / 3; }
  float kdtree_get_pt(size_t i, size_t d) const { return xyz[i * 3 + d]; }
  template <class BBox>
  bool kdtree_get_bbox(BBox&) const {
    return false;
  }
};
using KdTree = nanoflann::KDTreeSingleIndexAdaptor<nanoflann::L2_Simple_Adaptor<float, PointAdaptor>, PointAdaptor, 3,
                                                   uint32_t>;

float logit(float p) { return std::log(p / (1.0f - p)); }

}  // namespace

GaussianModel gaussians_from_points(const PointCloud& points, const InitOptions& options) {
  const size_t n = points.size();
  if (n == 0) throw_internal("gaussians_from_points: no points");
  GaussianModel model;
  model.sh_degree = options.sh_degree;
  model.resize(n);
  std::copy(points.xyz.begin(), points.xyz.end(), model.means.begin());

  // Mean squared distance to the 3 nearest other points; the query returns the point
  // itself first (distance 0), so ask for 4.
  PointAdaptor adaptor{points.xyz};
  KdTree tree(3, adaptor, nanoflann::KDTreeSingleIndexAdaptorParams(16));
  tree.buildIndex();
  const int K = model.sh_coeffs();
#pragma omp parallel for schedule(static)
  for (long i = 0; i < long(n); ++i) {
    uint32_t idx[4];
    float d2[4];
    const size_t found = tree.knnSearch(&points.xyz[size_t(i) * 3], 4, idx, d2);
    float sum = 0;
    int count = 0;
    for (size_t k = 0; k < found; ++k)
      if (idx[k] != uint32_t(i)) {
        sum += d2[k];
        ++count;
      }
    const float mean_d2 = std::max(count ? sum / float(count) : 1e-4f, 1e-7f);
    const float log_scale = 0.5f * std::log(mean_d2);
    for (int d = 0; d < 3; ++d) model.log_scales[size_t(i) * 3 + size_t(d)] = log_scale;
    for (int c = 0; c < 3; ++c) {
      const float rgb = points.rgb.empty() ? 0.5f : points.rgb[size_t(i) * 3 + size_t(c)];
      model.sh[size_t(i) * size_t(K) * 3 + size_t(c)] = (rgb - 0.5f) / kSHC0;
    }
    model.opacities[size_t(i)] = logit(options.initial_opacity);
  }
  return model;
}

void estimate_depth_range(const Dataset& dataset, float& near_depth, float& far_depth) {
  if (dataset.near_depth > 0 && dataset.far_depth > dataset.near_depth) {
    near_depth = dataset.near_depth;
    far_depth = dataset.far_depth;
    return;
  }
  // Least-squares point nearest to every train camera's optical axis:
  // sum_i (I - d_i d_i^T) p = sum_i (I - d_i d_i^T) c_i.
  glm::dmat3 A(0.0);
  glm::dvec3 b(0.0);
  std::vector<glm::dvec3> centers, dirs;
  for (int id : dataset.train_ids) {
    const Camera& cam = dataset.cameras[size_t(id)];
    const glm::dvec3 c = glm::dvec3(cam.center());
    const glm::dvec3 d = glm::normalize(glm::dvec3(glm::transpose(cam.R) * glm::vec3(0, 0, 1)));
    const glm::dmat3 P = glm::dmat3(1.0) - glm::outerProduct(d, d);
    A += P;
    b += P * c;
    centers.push_back(c);
    dirs.push_back(d);
  }
  const double extent = std::max(1e-3, double(dataset.scene_extent()));
  bool ok = std::abs(glm::determinant(A)) > 1e-6 * double(centers.size() * centers.size() * centers.size());
  double mean_dist = 0;
  if (ok) {
    const glm::dvec3 p = glm::inverse(A) * b;
    for (size_t i = 0; i < centers.size(); ++i) {
      const double z = glm::dot(p - centers[i], dirs[i]);
      if (z <= 0) ok = false;
      mean_dist += glm::length(p - centers[i]);
    }
    mean_dist /= double(centers.size());
  }
  if (ok) {
    // Object-centric: the object fills a sphere of about 40% of the viewing distance.
    near_depth = float(std::max(0.2, 0.6 * mean_dist));
    far_depth = float(1.4 * mean_dist);
  } else {
    // Forward-facing or a single camera: no convergence point; spread over a range tied to
    // the camera baseline.
    near_depth = float(std::max(0.2, 0.5 * extent));
    far_depth = float(20.0 * extent);
    log_warn("scene depth range unknown; random points fill depths " + std::to_string(near_depth) + " to " +
             std::to_string(far_depth));
  }
}

PointCloud random_points_in_view_volume(const Dataset& dataset, const InitOptions& options) {
  if (dataset.train_ids.empty()) throw_internal("random initialization needs train views");
  float near_depth = 0, far_depth = 0;
  estimate_depth_range(dataset, near_depth, far_depth);
  Rng rng(options.seed ^ 0x5eed1417ULL);
  PointCloud pc;
  pc.xyz.reserve(options.random_points * 3);
  pc.rgb.reserve(options.random_points * 3);
  // Uniform in inverse depth: as many points per pixel of disparity near and far, which
  // suits forward-facing scenes and is harmless for objects.
  const float inv_near = 1.0f / near_depth, inv_far = 1.0f / far_depth;
  std::vector<Camera> train;
  for (int id : dataset.train_ids) train.push_back(dataset.cameras[size_t(id)]);
  // With min_views > 1, draws until that many cameras see the point (bounded attempts).
  const size_t attempts = options.min_views > 1 ? options.random_points * 200 : options.random_points;
  for (size_t a = 0; a < attempts && pc.size() < options.random_points; ++a) {
    const Camera& cam = train[size_t(rng.index(int(train.size())))];
    const float u = rng.uniform(0.0f, float(cam.width)), v = rng.uniform(0.0f, float(cam.height));
    const float z = 1.0f / rng.uniform(inv_far, inv_near);
    const glm::vec3 pc_cam((u - cam.cx) / cam.fx * z, (v - cam.cy) / cam.fy * z, z);
    const glm::vec3 pw = glm::transpose(cam.R) * (pc_cam - cam.t);
    if (options.min_views > 1 &&
        views_seeing(&pw.x, 1, train, 0.5f * near_depth, 2.0f * far_depth)[0] < options.min_views)
      continue;
    pc.xyz.insert(pc.xyz.end(), {pw.x, pw.y, pw.z});
    for (int c = 0; c < 3; ++c) pc.rgb.push_back(std::clamp(0.5f + rng.normal(0.0f, 0.1f), 0.0f, 1.0f));
  }
  if (pc.size() == 0) throw_bad_input(dataset.root, "no point of the train views' frusta is seen by " +
                                                        std::to_string(options.min_views) + " train views");
  return pc;
}

InitialModel choose_initial_model(const Dataset& data, const InitPolicy& policy) {
  const std::string& asked = policy.method;
  if (asked != "auto" && asked != "sfm" && asked != "mvs" && asked != "random")
    throw_bad_input("initialization", "expected auto, sfm, mvs or random, got '" + asked + "'");
  std::string method = asked;
  const size_t points = data.points.size();
  const bool sparse_views = data.train_ids.size() >= 2 && data.train_ids.size() <= 9;
  if (method == "auto")
    method = points >= policy.dense_sfm_points ? "sfm" : sparse_views ? "mvs" : points >= 4 ? "sfm" : "random";
  if (method == "sfm" && points < 4) {
    // Points may exist but be out of reach: a sparse split keeps only those two train views saw.
    const bool split_restricted =
        data.points_from_train_views_only || data.train_ids.size() + data.test_ids.size() < data.size();
    throw_bad_input(data.root, split_restricted ? "no SfM points seen by two train views; use --init random"
                                                : "the dataset has no SfM points; use --init random");
  }
  PointCloud cloud;
  std::vector<DepthMap> depth_maps;
  if (method == "mvs") {
    PlaneSweepOptions mvs = policy.mvs;
    mvs.seed = policy.gaussians.seed;
    cloud = mvs_points(data, mvs, &depth_maps);
    if (cloud.size() < 4) {
      log_warn("multi-view stereo found too few consistent points; falling back to random initialization");
      method = "random";
    }
  }
  if (method == "sfm") cloud = data.points;
  if (method == "random") cloud = random_points_in_view_volume(data, policy.gaussians);
  if (method != "random" && policy.gaussians.min_views > 1) {
    // SfM / MVS points outside the region two photos constrain.
    float near_depth = 0, far_depth = 0;
    estimate_depth_range(data, near_depth, far_depth);
    std::vector<Camera> train;
    for (int id : data.train_ids) train.push_back(data.cameras[size_t(id)]);
    const auto seen = views_seeing(cloud.xyz.data(), cloud.size(), train, 0.5f * near_depth, 2.0f * far_depth);
    PointCloud kept;
    for (size_t i = 0; i < cloud.size(); ++i)
      if (seen[i] >= policy.gaussians.min_views) {
        kept.xyz.insert(kept.xyz.end(), cloud.xyz.begin() + long(3 * i), cloud.xyz.begin() + long(3 * i + 3));
        kept.rgb.insert(kept.rgb.end(), cloud.rgb.begin() + long(3 * i), cloud.rgb.begin() + long(3 * i + 3));
      }
    log_info("init: " + std::to_string(kept.size()) + " of " + std::to_string(cloud.size()) + " points seen by " +
             std::to_string(policy.gaussians.min_views) + " train views");
    if (kept.size() >= 4) cloud = std::move(kept);
  }
  InitialModel out;
  out.model = gaussians_from_points(cloud, policy.gaussians);
  out.method = method;
  if (method == "mvs") out.depth_maps = std::move(depth_maps);
  out.description = std::to_string(out.model.size()) + " Gaussians from " +
                    (method == "sfm"   ? "SfM points"
                     : method == "mvs" ? "plane-sweep stereo points"
                                       : "random points in the train views' frusta");
  return out;
}

std::vector<float> depth_at_size(const DepthMap& map, int width, int height) {
  std::vector<float> out(size_t(width) * size_t(height), 0.0f);
  const int mw = map.width(), mh = map.height();
  for (int y = 0; y < height; ++y) {
    const int my = std::min(mh - 1, int(int64_t(y) * mh / height));
    for (int x = 0; x < width; ++x) {
      const int mx = std::min(mw - 1, int(int64_t(x) * mw / width));
      out[size_t(y) * size_t(width) + size_t(x)] = map.depth[size_t(my) * size_t(mw) + size_t(mx)];
    }
  }
  return out;
}

}  // namespace sp
