#include "engine/scene/view_volume.h"

#include <algorithm>

namespace sp {

std::vector<uint8_t> views_seeing(const float* xyz, size_t n, const std::vector<Camera>& cameras, float near_depth,
                                  float far_depth) {
  std::vector<uint8_t> count(n, 0);
#pragma omp parallel for schedule(static)
  for (long i = 0; i < long(n); ++i) {
    const glm::vec3 p(xyz[3 * i], xyz[3 * i + 1], xyz[3 * i + 2]);
    int seen = 0;
    for (const Camera& c : cameras) {
      const glm::vec3 q = c.to_camera(p);
      if (!(q.z > near_depth) || (far_depth > 0 && !(q.z < far_depth))) continue;
      const float u = c.fx * q.x / q.z + c.cx, v = c.fy * q.y / q.z + c.cy;
      if (u >= 0 && u < float(c.width) && v >= 0 && v < float(c.height)) ++seen;
    }
    count[size_t(i)] = uint8_t(std::min(seen, 255));
  }
  return count;
}

}  // namespace sp
