#include "engine/synth/bvh.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace sp::synth {

namespace {

struct Box {
  glm::vec3 lo{std::numeric_limits<float>::max()}, hi{-std::numeric_limits<float>::max()};
  void grow(const glm::vec3& p) {
    lo = glm::min(lo, p);
    hi = glm::max(hi, p);
  }
  void grow(const Box& b) {
    lo = glm::min(lo, b.lo);
    hi = glm::max(hi, b.hi);
  }
  float area() const {
    if (lo.x > hi.x) return 0;
    const glm::vec3 d = hi - lo;
    return 2.0f * (d.x * d.y + d.y * d.z + d.z * d.x);
  }
};

constexpr int kBins = 16;
constexpr int kLeafSize = 4;

}  // namespace

Bvh::Bvh(const std::vector<glm::vec3>& positions, const std::vector<uint8_t>& casts_shadow) {
  const size_t n = positions.size() / 3;
  if (n == 0) return;
  std::vector<Box> boxes(n);
  std::vector<glm::vec3> centroids(n);
  std::vector<int32_t> order(n);
  for (size_t i = 0; i < n; ++i) {
    for (int k = 0; k < 3; ++k) boxes[i].grow(positions[3 * i + size_t(k)]);
    centroids[i] = (positions[3 * i] + positions[3 * i + 1] + positions[3 * i + 2]) / 3.0f;
    order[i] = int32_t(i);
  }
  struct Task {
    int32_t node, begin, end;
  };
  nodes_.reserve(2 * n / kLeafSize + 2);
  nodes_.push_back({});
  std::vector<Task> stack{{0, 0, int32_t(n)}};
  while (!stack.empty()) {
    const Task task = stack.back();
    stack.pop_back();
    Box bounds, cbounds;
    for (int32_t i = task.begin; i < task.end; ++i) {
      bounds.grow(boxes[size_t(order[size_t(i)])]);
      cbounds.grow(centroids[size_t(order[size_t(i)])]);
    }
    Node& node = nodes_[size_t(task.node)];
    for (int k = 0; k < 3; ++k) {
      node.lo[k] = bounds.lo[k];
      node.hi[k] = bounds.hi[k];
    }
    const int32_t count = task.end - task.begin;
    auto make_leaf = [&] {
      Node& leaf = nodes_[size_t(task.node)];
      leaf.first = task.begin;
      leaf.count = count;
    };
    if (count <= kLeafSize) {
      make_leaf();
      continue;
    }
    // Binned SAH over all three axes.
    float best_cost = std::numeric_limits<float>::max();
    int best_axis = -1, best_split = 0;
    for (int axis = 0; axis < 3; ++axis) {
      const float lo = cbounds.lo[axis], hi = cbounds.hi[axis];
      if (!(hi > lo)) continue;
      Box bin_box[kBins];
      int bin_count[kBins] = {};
      const float scale = float(kBins) / (hi - lo);
      for (int32_t i = task.begin; i < task.end; ++i) {
        const auto t = size_t(order[size_t(i)]);
        const int b = std::min(kBins - 1, int((centroids[t][axis] - lo) * scale));
        bin_box[b].grow(boxes[t]);
        ++bin_count[b];
      }
      float right_area[kBins];
      int right_count[kBins];
      Box acc;
      int cnt = 0;
      for (int b = kBins - 1; b > 0; --b) {
        acc.grow(bin_box[b]);
        cnt += bin_count[b];
        right_area[b] = acc.area();
        right_count[b] = cnt;
      }
      acc = Box{};
      cnt = 0;
      for (int b = 0; b < kBins - 1; ++b) {
        acc.grow(bin_box[b]);
        cnt += bin_count[b];
        if (cnt == 0 || right_count[b + 1] == 0) continue;
        const float cost = acc.area() * float(cnt) + right_area[b + 1] * float(right_count[b + 1]);
        if (cost < best_cost) {
          best_cost = cost;
          best_axis = axis;
          best_split = b + 1;
        }
      }
    }
    const float leaf_cost = bounds.area() * float(count);
    if (best_axis < 0 || (count <= 16 && best_cost >= leaf_cost)) {
      if (best_axis < 0 && count > 64) {
        // All centroids coincide: split in the middle of the list.
        best_axis = 0;
      } else {
        make_leaf();
        continue;
      }
    }
    int32_t mid;
    if (best_axis >= 0 && cbounds.hi[best_axis] > cbounds.lo[best_axis]) {
      const float lo = cbounds.lo[best_axis];
      const float scale = float(kBins) / (cbounds.hi[best_axis] - lo);
      const auto it = std::stable_partition(order.begin() + task.begin, order.begin() + task.end, [&](int32_t t) {
        return std::min(kBins - 1, int((centroids[size_t(t)][best_axis] - lo) * scale)) < best_split;
      });
      mid = int32_t(it - order.begin());
    } else {
      mid = task.begin + count / 2;
    }
    if (mid == task.begin || mid == task.end) mid = task.begin + count / 2;
    const int32_t left = int32_t(nodes_.size());
    nodes_.push_back({});
    nodes_.push_back({});
    Node& inner = nodes_[size_t(task.node)];
    inner.first = left;
    inner.count = 0;
    stack.push_back({left + 1, mid, task.end});
    stack.push_back({left, task.begin, mid});
  }
  tris_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const size_t t = size_t(order[i]);
    Tri& tri = tris_[i];
    tri.v0 = positions[3 * t];
    tri.e1 = positions[3 * t + 1] - tri.v0;
    tri.e2 = positions[3 * t + 2] - tri.v0;
    tri.index = int32_t(t);
    tri.shadow = casts_shadow.empty() ? 1 : casts_shadow[t];
  }
}

template <bool AnyHit>
bool Bvh::trace(const glm::vec3& o, const glm::vec3& d, float t_min, float t_max, RayHit* hit) const {
  if (nodes_.empty()) return false;
  glm::vec3 inv;
  for (int k = 0; k < 3; ++k) inv[k] = std::abs(d[k]) > 1e-30f ? 1.0f / d[k] : std::copysign(1e30f, d[k]);
  const glm::vec3 oi = o * inv;
  bool found = false;
  float best = t_max;
  int32_t stack[96];
  int sp = 0;
  int32_t current = 0;
  const auto box_hit = [&](const Node& n, float& t_enter) {
    float t0 = t_min, t1 = best;
    for (int k = 0; k < 3; ++k) {
      float a = n.lo[k] * inv[k] - oi[k], b = n.hi[k] * inv[k] - oi[k];
      if (a > b) std::swap(a, b);
      t0 = std::max(t0, a);
      t1 = std::min(t1, b);
    }
    t_enter = t0;
    return t0 <= t1;
  };
  float enter = 0;
  if (!box_hit(nodes_[0], enter)) return false;
  while (true) {
    const Node& n = nodes_[size_t(current)];
    if (n.count > 0) {
      for (int32_t i = n.first; i < n.first + n.count; ++i) {
        const Tri& tri = tris_[size_t(i)];
        if (AnyHit && !tri.shadow) continue;
        // Moller-Trumbore.
        const glm::vec3 p = glm::cross(d, tri.e2);
        const float det = glm::dot(tri.e1, p);
        if (std::abs(det) < 1e-20f) continue;
        const float inv_det = 1.0f / det;
        const glm::vec3 s = o - tri.v0;
        const float u = glm::dot(s, p) * inv_det;
        if (u < 0.0f || u > 1.0f) continue;
        const glm::vec3 q = glm::cross(s, tri.e1);
        const float v = glm::dot(d, q) * inv_det;
        if (v < 0.0f || u + v > 1.0f) continue;
        const float t = glm::dot(tri.e2, q) * inv_det;
        if (!(t > t_min && t < best)) continue;
        if (AnyHit) return true;
        found = true;
        best = t;
        hit->t = t;
        hit->triangle = tri.index;
        hit->b1 = u;
        hit->b2 = v;
      }
    } else {
      const int32_t l = n.first, r = n.first + 1;
      float tl = 0, tr = 0;
      const bool hl = box_hit(nodes_[size_t(l)], tl), hr = box_hit(nodes_[size_t(r)], tr);
      if (hl && hr) {
        const bool left_first = tl <= tr;
        stack[sp++] = left_first ? r : l;
        current = left_first ? l : r;
        continue;
      }
      if (hl) {
        current = l;
        continue;
      }
      if (hr) {
        current = r;
        continue;
      }
    }
    if (sp == 0) break;
    current = stack[--sp];
  }
  return found;
}

bool Bvh::closest(const glm::vec3& origin, const glm::vec3& dir, float t_min, float t_max, RayHit& hit) const {
  return trace<false>(origin, dir, t_min, t_max, &hit);
}

bool Bvh::occluded(const glm::vec3& origin, const glm::vec3& dir, float t_min, float t_max) const {
  return trace<true>(origin, dir, t_min, t_max, nullptr);
}

}  // namespace sp::synth
