#include "engine/synth/camera_rig.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/core/rng.h"

namespace sp::synth {

Camera RigCamera::to_camera(const std::string& name) const {
  Camera c;
  c.name = name;
  c.width = width;
  c.height = height;
  c.fx = float(K[0][0]);
  c.fy = float(K[1][1]);
  c.cx = float(K[2][0]);
  c.cy = float(K[2][1]);
  c.R = glm::mat3(R);
  c.t = glm::vec3(t);
  return c;
}

namespace {

glm::dvec3 direction(double azimuth_deg, double elevation_deg) {
  const double az = glm::radians(azimuth_deg), el = glm::radians(elevation_deg);
  return {std::sin(az) * std::cos(el), -std::cos(az) * std::cos(el), std::sin(el)};
}

double angle_between(const glm::dvec3& a, const glm::dvec3& b) {
  return std::atan2(glm::length(glm::cross(a, b)), glm::dot(a, b));
}

}  // namespace

std::vector<RigCamera> make_rig(const SceneDesc& desc) {
  const RigDesc& r = desc.rig;
  const int n = r.views;
  int rows = r.rows > 0 ? r.rows : std::max(1, int(std::lround(std::sqrt(double(n) / 2.0))));
  rows = std::min(rows, n);
  std::vector<double> elevation(static_cast<size_t>(rows)), weight(static_cast<size_t>(rows));
  for (int i = 0; i < rows; ++i) {
    elevation[size_t(i)] = rows == 1 ? 0.5 * (r.elevation_lo + r.elevation_hi)
                                     : r.elevation_lo + (r.elevation_hi - r.elevation_lo) * double(i) / double(rows - 1);
    weight[size_t(i)] = std::cos(glm::radians(elevation[size_t(i)]));
  }
  // Views per row: one each, the rest by largest remainder of the cos-weighted share.
  const double total = std::accumulate(weight.begin(), weight.end(), 0.0);
  std::vector<int> count(static_cast<size_t>(rows), 1);
  std::vector<double> remainder(static_cast<size_t>(rows));
  int left = n - rows;
  const int extra_total = left;
  for (int i = 0; i < rows; ++i) {
    const double share = double(extra_total) * weight[size_t(i)] / total;
    const int whole = int(std::floor(share));
    count[size_t(i)] += whole;
    left -= whole;
    remainder[size_t(i)] = share - whole;
  }
  std::vector<int> by_remainder(static_cast<size_t>(rows));
  std::iota(by_remainder.begin(), by_remainder.end(), 0);
  std::stable_sort(by_remainder.begin(), by_remainder.end(),
                   [&](int a, int b) { return remainder[size_t(a)] > remainder[size_t(b)]; });
  for (int k = 0; k < left; ++k) ++count[size_t(by_remainder[size_t(k % rows)])];

  Rng rng(desc.seed ^ 0x5eed0f0ca3e7a5ULL);
  const double f = 0.5 * double(desc.width) / std::tan(0.5 * glm::radians(r.fov_x_deg));
  std::vector<RigCamera> cams;
  cams.reserve(size_t(n));
  for (int row = 0; row < rows; ++row) {
    const int m = count[size_t(row)];
    for (int k = 0; k < m; ++k) {
      const int j = row % 2 == 0 ? k : m - 1 - k;  // serpentine
      double az = m == 1 ? 0.5 * (r.azimuth_lo + r.azimuth_hi)
                         : r.azimuth_lo + (r.azimuth_hi - r.azimuth_lo) * double(j) / double(m - 1);
      double el = elevation[size_t(row)];
      double radius = r.radius;
      if (r.jitter_deg > 0) {
        az += double(rng.uniform(-1.0f, 1.0f)) * r.jitter_deg;
        el += double(rng.uniform(-1.0f, 1.0f)) * r.jitter_deg;
        radius *= 1.0 + 0.01 * (r.jitter_deg / 0.5) * double(rng.uniform(-1.0f, 1.0f));
      }
      RigCamera c;
      c.width = desc.width;
      c.height = desc.height;
      c.azimuth_deg = az;
      c.elevation_deg = el;
      const glm::dvec3 centre = r.target + radius * direction(az, el);
      const glm::dvec3 fwd = glm::normalize(r.target - centre);
      const glm::dvec3 right = glm::normalize(glm::cross(fwd, glm::dvec3(0, 0, 1)));
      const glm::dvec3 down = glm::cross(fwd, right);
      for (int a = 0; a < 3; ++a) {
        c.R[a][0] = right[a];
        c.R[a][1] = down[a];
        c.R[a][2] = fwd[a];
      }
      c.t = -(c.R * centre);
      c.K = glm::dmat3(1.0);
      c.K[0][0] = f;
      c.K[1][1] = f;
      c.K[2][0] = 0.5 * desc.width;
      c.K[2][1] = 0.5 * desc.height;
      cams.push_back(c);
    }
  }
  return cams;
}

ViewSplit choose_split(const SceneDesc& desc, const std::vector<RigCamera>& cams) {
  ViewSplit s;
  const int n = int(cams.size());
  std::vector<glm::dvec3> dirs;
  for (const auto& c : cams) dirs.push_back(direction(c.azimuth_deg, c.elevation_deg));
  std::vector<bool> used(size_t(n), false);
  if (!desc.split.input_views.empty()) {
    s.input_views = desc.split.input_views;
  } else {
    const double az_c = 0.5 * (desc.rig.azimuth_lo + desc.rig.azimuth_hi);
    const double el_c = 0.5 * (desc.rig.elevation_lo + desc.rig.elevation_hi);
    const double targets[9][2] = {{0, 0}, {-25, 0}, {25, 0}, {-12, 12}, {12, 12}, {-12, -12}, {12, -12}, {-40, 0}, {40, 0}};
    const int want = std::min(9, std::max(1, n - std::max(1, desc.split.test_count)));
    for (int k = 0; k < want; ++k) {
      const double az = std::clamp(az_c + targets[k][0], desc.rig.azimuth_lo, desc.rig.azimuth_hi);
      const double el = std::clamp(el_c + targets[k][1], desc.rig.elevation_lo, desc.rig.elevation_hi);
      const glm::dvec3 d = direction(az, el);
      int best = -1;
      double best_angle = 1e9;
      for (int i = 0; i < n; ++i) {
        if (used[size_t(i)]) continue;
        const double a = angle_between(d, dirs[size_t(i)]);
        if (a < best_angle - 1e-12) {
          best_angle = a;
          best = i;
        }
      }
      used[size_t(best)] = true;
      s.input_views.push_back(best);
    }
  }
  for (int i : s.input_views) used[size_t(i)] = true;
  if (!desc.split.test_views.empty()) {
    s.test_views = desc.split.test_views;
    std::sort(s.test_views.begin(), s.test_views.end());
    return s;
  }
  glm::dvec3 centre(0.0);
  const size_t k = std::min<size_t>(3, s.input_views.size());
  for (size_t i = 0; i < k; ++i) centre += dirs[size_t(s.input_views[i])];
  centre = glm::normalize(centre);
  std::vector<int> others;
  for (int i = 0; i < n; ++i)
    if (!used[size_t(i)]) others.push_back(i);
  std::stable_sort(others.begin(), others.end(), [&](int a, int b) {
    return angle_between(centre, dirs[size_t(a)]) < angle_between(centre, dirs[size_t(b)]);
  });
  others.resize(std::min<size_t>(others.size(), size_t(desc.split.test_count)));
  std::sort(others.begin(), others.end());
  s.test_views = others;
  return s;
}

}  // namespace sp::synth
