#include "engine/io/undistort.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "engine/core/error.h"

namespace sp {

bool Distortion::is_none() const {
  return model == Model::None ||
         (k1 == 0 && k2 == 0 && p1 == 0 && p2 == 0 && k3 == 0 && k4 == 0 && k5 == 0 && k6 == 0);
}

std::string Distortion::describe() const {
  char buf[256];
  switch (model) {
    case Model::None: return "none";
    case Model::SimpleRadial: std::snprintf(buf, sizeof buf, "SIMPLE_RADIAL k=%.6g", k1); break;
    case Model::Radial: std::snprintf(buf, sizeof buf, "RADIAL k1=%.6g k2=%.6g", k1, k2); break;
    case Model::OpenCV:
      std::snprintf(buf, sizeof buf, "OPENCV k1=%.6g k2=%.6g p1=%.6g p2=%.6g", k1, k2, p1, p2);
      break;
    case Model::FullOpenCV:
      std::snprintf(buf, sizeof buf, "FULL_OPENCV k1=%.6g k2=%.6g p1=%.6g p2=%.6g k3=%.6g k4=%.6g k5=%.6g k6=%.6g", k1,
                    k2, p1, p2, k3, k4, k5, k6);
      break;
  }
  return buf;
}

// COLMAP (src/colmap/sensor/models.h, "Distortion"): the distorted point is (u + du, v + dv).
void Distortion::distort(double u, double v, double& ud, double& vd) const {
  const double u2 = u * u, v2 = v * v, uv = u * v, r2 = u2 + v2;
  double du = 0, dv = 0;
  switch (model) {
    case Model::None: break;
    case Model::SimpleRadial: {
      const double radial = k1 * r2;
      du = u * radial;
      dv = v * radial;
      break;
    }
    case Model::Radial: {
      const double radial = k1 * r2 + k2 * r2 * r2;
      du = u * radial;
      dv = v * radial;
      break;
    }
    case Model::OpenCV: {
      const double radial = k1 * r2 + k2 * r2 * r2;
      du = u * radial + 2 * p1 * uv + p2 * (r2 + 2 * u2);
      dv = v * radial + 2 * p2 * uv + p1 * (r2 + 2 * v2);
      break;
    }
    case Model::FullOpenCV: {
      const double r4 = r2 * r2, r6 = r4 * r2;
      const double radial = (1 + k1 * r2 + k2 * r4 + k3 * r6) / (1 + k4 * r2 + k5 * r4 + k6 * r6);
      du = u * radial + 2 * p1 * uv + p2 * (r2 + 2 * u2) - u;
      dv = v * radial + 2 * p2 * uv + p1 * (r2 + 2 * v2) - v;
      break;
    }
  }
  ud = u + du;
  vd = v + dv;
}

bool Distortion::undistort(double ud, double vd, double& u, double& v) const {
  u = ud;
  v = vd;
  if (is_none()) return true;
  // Newton's method with a central-difference Jacobian, as COLMAP's IterativeUndistortion.
  for (int it = 0; it < 100; ++it) {
    double fu, fv;
    distort(u, v, fu, fv);
    const double ru = fu - ud, rv = fv - vd;
    if (std::abs(ru) < 1e-14 && std::abs(rv) < 1e-14) return true;
    const double h = 1e-7 * std::max(1.0, std::hypot(u, v));
    double a, b, c, d, e, f, g, k;
    distort(u + h, v, a, b);
    distort(u - h, v, c, d);
    distort(u, v + h, e, f);
    distort(u, v - h, g, k);
    const double j00 = (a - c) / (2 * h), j10 = (b - d) / (2 * h), j01 = (e - g) / (2 * h), j11 = (f - k) / (2 * h);
    const double det = j00 * j11 - j01 * j10;
    if (!std::isfinite(det) || std::abs(det) < 1e-15) return false;
    u -= (j11 * ru - j01 * rv) / det;
    v -= (-j10 * ru + j00 * rv) / det;
    if (!std::isfinite(u) || !std::isfinite(v)) return false;
  }
  double fu, fv;
  distort(u, v, fu, fv);
  return std::abs(fu - ud) < 1e-9 && std::abs(fv - vd) < 1e-9;
}

UndistortMap make_undistort_map(int width, int height, double fx, double fy, double cx, double cy,
                                const Distortion& distortion) {
  if (width <= 0 || height <= 0 || !(fx > 0) || !(fy > 0)) throw_internal("make_undistort_map: bad camera");
  UndistortMap map;
  map.width = width;
  map.height = height;
  map.source.resize(size_t(width) * size_t(height) * 2);
  size_t outside = 0;
#pragma omp parallel for reduction(+ : outside) schedule(static)
  for (int y = 0; y < height; ++y) {
    const double v = (y + 0.5 - cy) / fy;
    for (int x = 0; x < width; ++x) {
      const double u = (x + 0.5 - cx) / fx;
      double ud, vd;
      distortion.distort(u, v, ud, vd);
      // Corner-origin pixel coordinate minus 0.5 = index space (pixel centres at integers).
      const double sx = fx * ud + cx - 0.5, sy = fy * vd + cy - 0.5;
      if (!(sx >= -0.5 && sx <= width - 0.5 && sy >= -0.5 && sy <= height - 0.5)) ++outside;
      float* s = &map.source[(size_t(y) * size_t(width) + size_t(x)) * 2];
      s[0] = float(std::clamp(sx, -1.0, double(width)));  // clamped again when sampling
      s[1] = float(std::clamp(sy, -1.0, double(height)));
    }
  }
  map.outside = outside;
  return map;
}

Image undistort_image(const Image& src, const UndistortMap& map) {
  if (src.width != map.width || src.height != map.height)
    throw_internal("undistort_image: image is " + std::to_string(src.width) + "x" + std::to_string(src.height) +
                   ", map is " + std::to_string(map.width) + "x" + std::to_string(map.height));
  Image out(src.width, src.height, src.channels);
  const int W = src.width, H = src.height, C = src.channels;
#pragma omp parallel for schedule(static)
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x) {
      const float* s = &map.source[(size_t(y) * size_t(W) + size_t(x)) * 2];
      const float fxs = std::clamp(s[0], 0.0f, float(W - 1)), fys = std::clamp(s[1], 0.0f, float(H - 1));
      const int x0 = std::min(int(fxs), W - 1), y0 = std::min(int(fys), H - 1);
      const int x1 = std::min(x0 + 1, W - 1), y1 = std::min(y0 + 1, H - 1);
      const float ax = fxs - float(x0), ay = fys - float(y0);
      for (int c = 0; c < C; ++c)
        out.at(x, y, c) = (1 - ay) * ((1 - ax) * src.at(x0, y0, c) + ax * src.at(x1, y0, c)) +
                          ay * ((1 - ax) * src.at(x0, y1, c) + ax * src.at(x1, y1, c));
    }
  return out;
}

}  // namespace sp
