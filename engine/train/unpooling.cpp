#include "engine/train/unpooling.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <nanoflann.hpp>

namespace sp {

namespace {

struct CentreCloud {
  const std::vector<float>& xyz;
  size_t kdtree_get_point_count() const { return xyz.size() / 3; }
  float kdtree_get_pt(size_t i, size_t d) const { return xyz[i * 3 + d]; }
  template <class Box>
  bool kdtree_get_bbox(Box&) const {
    return false;
  }
};
using Tree = nanoflann::KDTreeSingleIndexAdaptor<nanoflann::L2_Simple_Adaptor<float, CentreCloud>, CentreCloud, 3, size_t>;

// K nearest (excluding the query itself when `skip_self`): indices and distances per query.
void knn(const std::vector<float>& query, const std::vector<float>& points, int k, bool skip_self,
         std::vector<size_t>& idx, std::vector<float>& dist) {
  const size_t n = query.size() / 3;
  idx.assign(n * size_t(k), 0);
  dist.assign(n * size_t(k), std::numeric_limits<float>::infinity());
  const size_t m = points.size() / 3;
  if (m == 0) return;
  CentreCloud cloud{points};
  Tree tree(3, cloud, nanoflann::KDTreeSingleIndexAdaptorParams(16));
  tree.buildIndex();
  const int want = std::min<int>(k + (skip_self ? 1 : 0), int(m));
#pragma omp parallel for schedule(static)
  for (long q = 0; q < long(n); ++q) {
    std::vector<size_t> ids(size_t(want) + 1);
    std::vector<float> d2(size_t(want) + 1);
    const size_t found = tree.knnSearch(&query[size_t(q) * 3], size_t(want), ids.data(), d2.data());
    int out = 0;
    for (size_t j = 0; j < found && out < k; ++j) {
      if (skip_self && ids[j] == size_t(q)) continue;
      idx[size_t(q) * size_t(k) + size_t(out)] = ids[j];
      dist[size_t(q) * size_t(k) + size_t(out)] = std::sqrt(d2[j]);
      ++out;
    }
  }
}

float median(std::vector<float> v) {
  if (v.empty()) return 0.0f;
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + long(mid), v.end());
  return v[mid];
}

}  // namespace

std::vector<float> nearest_distances(const std::vector<float>& query, const std::vector<float>& points,
                                     bool exclude_self) {
  std::vector<size_t> idx;
  std::vector<float> dist;
  knn(query, points, 1, exclude_self, idx, dist);
  return dist;
}

std::vector<bool> co_pruning_keep(const GaussianModel& field, const GaussianModel& other, float tau) {
  const std::vector<float> d = nearest_distances(field.means, other.means);
  std::vector<bool> keep(d.size());
  for (size_t i = 0; i < d.size(); ++i) keep[i] = d[i] <= tau;
  return keep;
}

float median_neighbour_distance(const GaussianModel& field) {
  std::vector<float> d = nearest_distances(field.means, field.means, true);
  d.erase(std::remove_if(d.begin(), d.end(), [](float x) { return !std::isfinite(x); }), d.end());
  return median(std::move(d));
}

size_t unpool(GaussianModel& model, AdamState& adam, const UnpoolingOptions& options) {
  const size_t n = model.size();
  const int k = std::max(1, options.neighbours);
  if (n <= size_t(k)) return 0;
  std::vector<size_t> idx;
  std::vector<float> dist;
  knn(model.means, model.means, k, true, idx, dist);
  std::vector<float> score(n);
  for (size_t i = 0; i < n; ++i) {
    float s = 0;
    for (int j = 0; j < k; ++j) s += dist[i * size_t(k) + size_t(j)];
    score[i] = s / float(k);
  }
  const float threshold = options.score_factor * median(score);
  std::vector<size_t> sources;
  for (size_t i = 0; i < n; ++i)
    if (score[i] > threshold) sources.push_back(i);
  // Highest scores first (ties by index), up to the cap.
  std::stable_sort(sources.begin(), sources.end(), [&](size_t a, size_t b) { return score[a] > score[b]; });
  const size_t max_sources = options.max_new / size_t(k);
  if (sources.size() > max_sources) sources.resize(max_sources);
  std::sort(sources.begin(), sources.end());
  size_t added = 0;
  for (size_t i : sources)
    for (int j = 0; j < k; ++j) {
      const size_t nb = idx[i * size_t(k) + size_t(j)];
      model.append_from(model, nb);
      const size_t last = model.size() - 1;
      for (int d = 0; d < 3; ++d) model.means[last * 3 + size_t(d)] = 0.5f * (model.means[i * 3 + size_t(d)] + model.means[nb * 3 + size_t(d)]);
      ++added;
    }
  adam.m.resize(model.size());
  adam.v.resize(model.size());
  // resize() gives new rows identity rotations; moments must be zero.
  for (size_t g = n; g < model.size(); ++g)
    for (int c = 0; c < 4; ++c) adam.m.rotations[g * 4 + size_t(c)] = adam.v.rotations[g * 4 + size_t(c)] = 0.0f;
  return added;
}

}  // namespace sp
