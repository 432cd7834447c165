#pragma once
// A small, fully consistent COLMAP model for tests: cameras looking at the origin from a
// circle of radius 4, random points in a cube around the origin with tracks (and matching 2D points) for every
// image that sees them (2D points use camera 1's pinhole projection, so they are exact for
// images of camera 1 only). Image ids are deliberately not in name order.
#include <cmath>
#include <numbers>
#include <random>
#include <string>

#include <glm/glm.hpp>

#include "engine/io/colmap.h"

namespace sp::test {

struct SyntheticColmapOptions {
  int images = 6;
  int points = 40;
  int width = 64, height = 48;
  bool mixed_models = false;  // cameras 1..3 = PINHOLE, SIMPLE_RADIAL, OPENCV instead of one PINHOLE
  double spread = 1.0;        // points lie in [-spread, spread]^3; > 2 puts some out of view
  uint64_t seed = 3;
};

// World -> camera pose of a camera at `centre` looking at the origin (+z forward, +y down).
inline void look_at_origin(const glm::dvec3& centre, glm::dmat3& R, glm::dvec3& t) {
  const glm::dvec3 f = glm::normalize(-centre);
  const glm::dvec3 r = glm::normalize(glm::cross(f, glm::dvec3(0, 0, 1)));
  const glm::dvec3 d = glm::cross(f, r);
  R = glm::transpose(glm::dmat3(r, d, f));  // rows r, d, f
  t = -(R * centre);
}

inline ColmapModel synthetic_colmap_model(const SyntheticColmapOptions& o = {}) {
  ColmapModel m;
  m.has_images = m.has_points = true;
  const double W = o.width, H = o.height, f = 0.9 * W;
  m.cameras.push_back({1, int(ColmapModelId::Pinhole), uint64_t(o.width), uint64_t(o.height), {f, f * 1.01, W / 2, H / 2}});
  if (o.mixed_models) {
    m.cameras.push_back({2, int(ColmapModelId::SimpleRadial), uint64_t(o.width), uint64_t(o.height), {f, W / 2 + 0.5, H / 2 - 0.25, -0.08}});
    m.cameras.push_back({3, int(ColmapModelId::OpenCV), uint64_t(o.width), uint64_t(o.height),
                         {f, f * 0.99, W / 2, H / 2, -0.05, 0.01, 0.001, -0.002}});
  }
  std::mt19937_64 rng(o.seed);
  std::uniform_real_distribution<double> u(-o.spread, o.spread);
  for (int p = 0; p < o.points; ++p) {
    m.points.ids.push_back(uint64_t(100 + 7 * p));
    for (int k = 0; k < 3; ++k) m.points.xyz.push_back(u(rng));
    for (int k = 0; k < 3; ++k) m.points.rgb.push_back(uint8_t(rng() & 0xff));
    m.points.error.push_back(0.25 + 0.01 * p);
  }
  std::vector<std::vector<std::pair<uint32_t, uint32_t>>> tracks(size_t(o.points));
  for (int i = 0; i < o.images; ++i) {
    const double a = 2 * std::numbers::pi * i / o.images;
    const glm::dvec3 c(4 * std::cos(a), 4 * std::sin(a), 1.0);
    glm::dmat3 R;
    glm::dvec3 t;
    look_at_origin(c, R, t);
    ColmapImage im;
    im.id = uint32_t(o.images - i) * 3;  // descending ids: id order != name order
    im.qvec = rotation_to_quaternion(R);
    im.tvec = {t.x, t.y, t.z};
    im.camera_id = o.mixed_models ? uint32_t(1 + i % 3) : 1;
    im.name = "img_" + std::string(i < 10 ? "0" : "") + std::to_string(i) + ".png";
    for (int p = 0; p < o.points; ++p) {
      const glm::dvec3 x = R * glm::dvec3(m.points.xyz[3 * p], m.points.xyz[3 * p + 1], m.points.xyz[3 * p + 2]) + t;
      const double px = f * x.x / x.z + W / 2, py = f * 1.01 * x.y / x.z + H / 2;  // camera 1: fy = 1.01 f
      if (x.z <= 0 || px < 0 || px >= W || py < 0 || py >= H) continue;
      tracks[size_t(p)].push_back({im.id, uint32_t(im.point3d_ids.size())});
      im.xys.push_back(px);
      im.xys.push_back(py);
      im.point3d_ids.push_back(int64_t(m.points.ids[size_t(p)]));
    }
    if (i == 1) {  // one image with an unmatched 2D point
      im.xys.push_back(1.5);
      im.xys.push_back(2.5);
      im.point3d_ids.push_back(-1);
    }
    m.images.push_back(std::move(im));
  }
  for (const auto& tr : tracks) {
    for (const auto& [img, idx] : tr) {
      m.points.track_image_ids.push_back(img);
      m.points.track_point2d_idx.push_back(idx);
    }
    m.points.track_offsets.push_back(m.points.track_image_ids.size());
  }
  return m;
}

}  // namespace sp::test
