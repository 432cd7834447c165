#include "engine/train/pseudo_views.h"

#include <algorithm>
#include <cmath>
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

bool rig_focus(const std::vector<Camera>& cameras, glm::vec3& focus) {
  if (cameras.size() < 2) return false;
  // Minimise sum_i |(I - d_i d_i^T)(x - o_i)|^2: A x = b with A = sum (I - d d^T).
  glm::dmat3 A(0.0);
  glm::dvec3 b(0.0);
  for (const Camera& c : cameras) {
    const glm::dvec3 d = glm::normalize(glm::dvec3(glm::transpose(c.R) * glm::vec3(0, 0, 1)));
    const glm::dmat3 P = glm::dmat3(1.0) - glm::outerProduct(d, d);
    A += P;
    b += P * glm::dvec3(c.center());
  }
  // Parallel axes make A (nearly) rank 2: its smallest eigenvalue relative to the trace
  // tells; the determinant of the normalised matrix is a cheap proxy.
  const double tr = A[0][0] + A[1][1] + A[2][2];
  if (!(tr > 0) || glm::determinant(A / (tr / 3.0)) < 1e-3) return false;
  const glm::dvec3 x = glm::inverse(A) * b;
  for (const Camera& c : cameras)
    if (!(c.to_camera(glm::vec3(x)).z > 0)) return false;
  focus = glm::vec3(x);
  return true;
}

void tilt_about(std::vector<Camera>& cameras, const glm::vec3& focus, float max_angle, Rng& rng) {
  for (Camera& c : cameras) {
    const float angle = (2.0f * rng.uniform() - 1.0f) * max_angle;
    const glm::vec3 right = glm::transpose(c.R) * glm::vec3(1, 0, 0);
    const glm::mat3 Q = glm::mat3_cast(glm::angleAxis(angle, glm::normalize(right)));
    const glm::vec3 centre = Q * (c.center() - focus) + focus;
    c.R = c.R * glm::transpose(Q);
    c.t = -(c.R * centre);
  }
}

float mean_neighbour_angle(const std::vector<Camera>& cameras, const glm::vec3& focus) {
  if (cameras.size() < 2) return 0;
  double sum = 0;
  for (size_t i = 0; i < cameras.size(); ++i) {
    float best = std::numeric_limits<float>::max();
    const glm::vec3 a = glm::normalize(cameras[i].center() - focus);
    for (size_t j = 0; j < cameras.size(); ++j)
      if (j != i) best = std::min(best, std::acos(std::clamp(glm::dot(a, glm::normalize(cameras[j].center() - focus)), -1.0f, 1.0f)));
    sum += best;
  }
  return float(sum / double(cameras.size()));
}

std::vector<Camera> interpolated_pseudo_cameras(const std::vector<Camera>& train, int count, uint64_t seed) {
  Rng rng(seed);
  return interpolated_pseudo_cameras(train, count, rng);
}

}  // namespace sp
