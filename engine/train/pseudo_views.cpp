#include "engine/train/pseudo_views.h"

#include <cstdio>
#include <limits>

#include <glm/gtc/quaternion.hpp>

namespace sp {

Camera camera_toward(const Camera& from, const Camera& to, float t) {
  Camera c = from;
  const glm::quat qa = glm::normalize(glm::quat_cast(from.R));
  glm::quat qb = glm::normalize(glm::quat_cast(to.R));
  if (glm::dot(qa, qb) < 0.0f) qb = -qb;  // the short way round
  c.R = glm::mat3_cast(glm::normalize(glm::slerp(qa, qb, t)));
  const glm::vec3 centre = from.center() + t * (to.center() - from.center());
  c.t = -(c.R * centre);
  return c;
}

std::vector<Camera> interpolated_pseudo_cameras(const std::vector<Camera>& train, int count, Rng& rng) {
  std::vector<Camera> out;
  if (train.size() < 2 || count <= 0) return out;
  const int n = int(train.size());
  // Nearest neighbour of each train camera, once.
  std::vector<int> nearest(size_t(n), 0);
  for (int i = 0; i < n; ++i) {
    float best = std::numeric_limits<float>::max();
    for (int j = 0; j < n; ++j) {
      if (j == i) continue;
      const float d = glm::length(train[size_t(i)].center() - train[size_t(j)].center());
      if (d < best) best = d, nearest[size_t(i)] = j;
    }
  }
  out.reserve(size_t(count));
  for (int k = 0; k < count; ++k) {
    const int i = rng.index(n);
    const float t = rng.uniform();
    Camera c = camera_toward(train[size_t(i)], train[size_t(nearest[size_t(i)])], t);
    char name[32];
    std::snprintf(name, sizeof name, "pseudo_%03d", k);
    c.name = name;
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<Camera> interpolated_pseudo_cameras(const std::vector<Camera>& train, int count, uint64_t seed) {
  Rng rng(seed);
  return interpolated_pseudo_cameras(train, count, rng);
}

}  // namespace sp
