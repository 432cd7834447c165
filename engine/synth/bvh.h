#pragma once
// A bounding volume hierarchy over a triangle soup (binned SAH, built once, read-only and
// thread-safe afterwards) answering closest-hit and any-hit (shadow) ray queries.
#include <cstdint>
#include <vector>

#include <glm/glm.hpp>

namespace sp::synth {

struct RayHit {
  float t = 0;         // distance along the (unit or not) direction
  int triangle = -1;   // index in the mesh the BVH was built from
  float b1 = 0, b2 = 0;  // barycentric weights of vertices 1 and 2 (vertex 0: 1 - b1 - b2)
};

class Bvh {
 public:
  Bvh() = default;
  // `positions` holds 3 vertices per triangle. `casts_shadow` (one per triangle, may be
  // empty = all) says which triangles block shadow rays.
  Bvh(const std::vector<glm::vec3>& positions, const std::vector<uint8_t>& casts_shadow);

  // Closest hit with t in (t_min, t_max); false when none.
  bool closest(const glm::vec3& origin, const glm::vec3& dir, float t_min, float t_max, RayHit& hit) const;
  // Any shadow-casting triangle with t in (t_min, t_max).
  bool occluded(const glm::vec3& origin, const glm::vec3& dir, float t_min, float t_max) const;

  size_t node_count() const { return nodes_.size(); }
  glm::vec3 bounds_min() const { return nodes_.empty() ? glm::vec3(0) : glm::vec3(nodes_[0].lo[0], nodes_[0].lo[1], nodes_[0].lo[2]); }
  glm::vec3 bounds_max() const { return nodes_.empty() ? glm::vec3(0) : glm::vec3(nodes_[0].hi[0], nodes_[0].hi[1], nodes_[0].hi[2]); }

 private:
  struct Node {
    float lo[3], hi[3];
    int32_t first;  // leaf: first entry in tris_; inner: index of the left child (right = first + 1)
    int32_t count;  // leaf: triangle count (> 0); inner: 0
  };
  struct Tri {
    glm::vec3 v0, e1, e2;
    int32_t index;
    uint8_t shadow;
  };
  template <bool AnyHit>
  bool trace(const glm::vec3& origin, const glm::vec3& dir, float t_min, float t_max, RayHit* hit) const;

  std::vector<Node> nodes_;
  std::vector<Tri> tris_;
};

}  // namespace sp::synth
