#pragma once
// Per-Gaussian projection of the 3DGS pipeline (EWA splatting, INRIA conventions) and its
// vector-Jacobian products, templated on the scalar: the CPU rasterizer runs it in float,
// the gradient tests in double. Pipeline and conventions: docs/rasterizer.md.
//
//   Σ      = R S Sᵀ Rᵀ              R from q/|q|, q = (w, x, y, z); S = diag(exp(log_scale))
//   p_cam  = R_cam p + t            culled when p_cam.z <= near_plane
//   mean2d = (fx x/z + cx, fy y/z + cy)   pixels; pixel (i, j) is sampled at (i + 0.5, j + 0.5)
//   Σ2D    = J R_cam Σ R_camᵀ Jᵀ + 0.3 I  J: perspective Jacobian, x/z and y/z clamped to
//                                       ±1.3 tan(fov/2) (tan(fov_x/2) = width / (2 fx))
//   conic  = Σ2D⁻¹
//   radius = ceil(3 sqrt(λmax)),  λmax = mid + sqrt(max(0.1, mid² − det)) as INRIA computes it
//
// Gradients are exact derivatives of these functions. Where INRIA's kernel differs (it treats
// the clamped x/z as constant in z, giving twice the z-derivative there) we follow the
// mathematics; the difference only touches Gaussians centred beyond 1.3x the field of view.
//
// Matrix gradients have the layout of the matrix: dM[col][row] = dL/dM[col][row] (GLM is
// column-major); backward functions accumulate (+=) into vector outputs unless noted.
#include <algorithm>
#include <cmath>

#include <glm/glm.hpp>

#include "engine/core/camera.h"

// The per-Gaussian functions below also compile as CUDA device code (cuda/): under nvcc
// they are __host__ __device__ (with --expt-relaxed-constexpr for std::clamp/std::max);
// for the C++ compiler the macro is empty and nothing changes.
#if defined(__CUDACC__)
#define SP_HD __host__ __device__
#else
#define SP_HD
#endif

namespace sp {

// Σ2D's low-pass filter (INRIA): kCovarianceBlur is added to its diagonal, in pixels².
inline constexpr double kCovarianceBlur = 0.3;
// x/z and y/z are clamped inside J to ±kFrustumClamp tan(fov/2).
inline constexpr double kFrustumClamp = 1.3;

template <class T>
using Vec2T = glm::vec<2, T, glm::defaultp>;
template <class T>
using Vec3T = glm::vec<3, T, glm::defaultp>;
template <class T>
using Mat3T = glm::mat<3, 3, T, glm::defaultp>;

// A symmetric 2x2 matrix [[a, b], [b, c]]: a 2D covariance or its inverse, the conic.
template <class T>
struct Sym2T {
  T a = 0, b = 0, c = 0;
};

// The camera as projection uses it, in the working precision.
template <class T>
struct ProjectionCameraT {
  Mat3T<T> R{T(1)};        // world -> camera
  Vec3T<T> t{T(0)};
  Vec3T<T> center{T(0)};   // camera position in world space (origin of SH view directions)
  T fx = 1, fy = 1, cx = 0, cy = 0;
  T lim_x = 1, lim_y = 1;  // 1.3 tan(fov/2): the clamp of x/z and y/z inside J
  T near_plane = T(0.2);
  int width = 0, height = 0;
};

template <class T>
ProjectionCameraT<T> projection_camera(const Camera& camera, float near_plane) {
  ProjectionCameraT<T> c;
  c.R = Mat3T<T>(camera.R);
  c.t = Vec3T<T>(camera.t);
  c.center = -(glm::transpose(c.R) * c.t);
  c.fx = T(camera.fx);
  c.fy = T(camera.fy);
  c.cx = T(camera.cx);
  c.cy = T(camera.cy);
  c.lim_x = T(kFrustumClamp) * T(0.5) * T(camera.width) / c.fx;
  c.lim_y = T(kFrustumClamp) * T(0.5) * T(camera.height) / c.fy;
  c.near_plane = T(near_plane);
  c.width = camera.width;
  c.height = camera.height;
  return c;
}

// ---- rotation -------------------------------------------------------------------------

// Rotation matrix of q/|q|, q = (w, x, y, z); the identity for a zero quaternion.
template <class T>
SP_HD Mat3T<T> quat_to_rotation(const T* q) {
  const T n2 = q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3];
  if (!(n2 > T(0))) return Mat3T<T>(T(1));
  const T inv = T(1) / std::sqrt(n2);
  const T w = q[0] * inv, x = q[1] * inv, y = q[2] * inv, z = q[3] * inv;
  Mat3T<T> R;  // R[col][row]
  R[0][0] = T(1) - T(2) * (y * y + z * z);
  R[1][0] = T(2) * (x * y - w * z);
  R[2][0] = T(2) * (x * z + w * y);
  R[0][1] = T(2) * (x * y + w * z);
  R[1][1] = T(1) - T(2) * (x * x + z * z);
  R[2][1] = T(2) * (y * z - w * x);
  R[0][2] = T(2) * (x * z - w * y);
  R[1][2] = T(2) * (y * z + w * x);
  R[2][2] = T(1) - T(2) * (x * x + y * y);
  return R;
}

// dL/dq for the un-normalized q (through the normalization), given dL/dR. Writes dq[0..3].
template <class T>
SP_HD void quat_to_rotation_backward(const T* q, const Mat3T<T>& dR, T* dq) {
  const T n2 = q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3];
  if (!(n2 > T(0))) {
    dq[0] = dq[1] = dq[2] = dq[3] = T(0);
    return;
  }
  const T norm = std::sqrt(n2), inv = T(1) / norm;
  const T w = q[0] * inv, x = q[1] * inv, y = q[2] * inv, z = q[3] * inv;
  auto g = [&](int row, int col) { return dR[col][row]; };
  // Partial derivatives of the nine entries of R with respect to the unit quaternion.
  const T dw = T(2) * (-z * g(0, 1) + y * g(0, 2) + z * g(1, 0) - x * g(1, 2) - y * g(2, 0) + x * g(2, 1));
  const T dx = T(2) * (y * g(0, 1) + z * g(0, 2) + y * g(1, 0) - T(2) * x * g(1, 1) - w * g(1, 2) + z * g(2, 0) +
                       w * g(2, 1) - T(2) * x * g(2, 2));
  const T dy = T(2) * (-T(2) * y * g(0, 0) + x * g(0, 1) + w * g(0, 2) + x * g(1, 0) + z * g(1, 2) - w * g(2, 0) +
                       z * g(2, 1) - T(2) * y * g(2, 2));
  const T dz = T(2) * (-T(2) * z * g(0, 0) - w * g(0, 1) + x * g(0, 2) + w * g(1, 0) - T(2) * z * g(1, 1) +
                       y * g(1, 2) + x * g(2, 0) + y * g(2, 1));
  // q/|q| has Jacobian (I − n nᵀ)/|q|.
  const T dot = w * dw + x * dx + y * dy + z * dz;
  dq[0] = (dw - w * dot) * inv;
  dq[1] = (dx - x * dot) * inv;
  dq[2] = (dy - y * dot) * inv;
  dq[3] = (dz - z * dot) * inv;
}

// ---- 3D covariance --------------------------------------------------------------------

// Σ = M Mᵀ with M = R S.
template <class T>
SP_HD Mat3T<T> covariance_3d(const T* log_scale, const T* q) {
  Mat3T<T> M = quat_to_rotation(q);
  for (int c = 0; c < 3; ++c) M[c] *= std::exp(log_scale[c]);
  return M * glm::transpose(M);
}

// Writes dlog_scale[0..2] and dq[0..3] from dL/dΣ.
template <class T>
SP_HD void covariance_3d_backward(const T* log_scale, const T* q, const Mat3T<T>& dsigma, T* dlog_scale, T* dq) {
  const Mat3T<T> R = quat_to_rotation(q);
  Mat3T<T> M = R;
  T s[3];
  for (int c = 0; c < 3; ++c) {
    s[c] = std::exp(log_scale[c]);
    M[c] *= s[c];
  }
  const Mat3T<T> dM = (dsigma + glm::transpose(dsigma)) * M;
  Mat3T<T> dR;
  for (int c = 0; c < 3; ++c) {  // column c of M is s_c times column c of R
    dR[c] = dM[c] * s[c];
    dlog_scale[c] = glm::dot(dM[c], R[c]) * s[c];
  }
  quat_to_rotation_backward(q, dR, dq);
}

// ---- EWA: 3D covariance to screen ----------------------------------------------------

// Σ2D = J R_cam Σ R_camᵀ Jᵀ + 0.3 I with J rows (fx/z, 0, −fx u/z), (0, fy/z, −fy v/z),
// u = clamp(x/z, ±lim_x), v = clamp(y/z, ±lim_y). Evaluated through the rows of J R_cam,
// g0 = R_camᵀ j0 and g1 = R_camᵀ j1: Σ2D = [g0ᵀΣg0, g0ᵀΣg1; ·, g1ᵀΣg1] (+0.3).
template <class T>
struct EwaRowsT {
  Vec3T<T> j0, j1;  // rows of J
  Vec3T<T> g0, g1;  // rows of J R_cam
  T u = 0, v = 0;   // x/z and y/z after the clamp
  bool free_x = true, free_y = true;  // not clamped
};
template <class T>
SP_HD EwaRowsT<T> ewa_rows(const ProjectionCameraT<T>& cam, const Vec3T<T>& p_cam) {
  EwaRowsT<T> e;
  const T rz = T(1) / p_cam.z;
  const T xz = p_cam.x * rz, yz = p_cam.y * rz;
  e.free_x = xz >= -cam.lim_x && xz <= cam.lim_x;
  e.free_y = yz >= -cam.lim_y && yz <= cam.lim_y;
  e.u = std::clamp(xz, -cam.lim_x, cam.lim_x);
  e.v = std::clamp(yz, -cam.lim_y, cam.lim_y);
  e.j0 = Vec3T<T>(cam.fx * rz, T(0), -cam.fx * e.u * rz);
  e.j1 = Vec3T<T>(T(0), cam.fy * rz, -cam.fy * e.v * rz);
  e.g0 = e.j0 * cam.R;  // row vector times matrix: R_camᵀ j0
  e.g1 = e.j1 * cam.R;
  return e;
}

template <class T>
SP_HD Sym2T<T> project_covariance(const ProjectionCameraT<T>& cam, const Vec3T<T>& p_cam, const Mat3T<T>& sigma) {
  const EwaRowsT<T> e = ewa_rows(cam, p_cam);
  const Vec3T<T> s0 = sigma * e.g0, s1 = sigma * e.g1;
  return {glm::dot(e.g0, s0) + T(kCovarianceBlur), glm::dot(e.g0, s1), glm::dot(e.g1, s1) + T(kCovarianceBlur)};
}

// Accumulates dL/dp_cam into dp_cam and writes dL/dΣ into dsigma, from dL/dΣ2D.
template <class T>
SP_HD void project_covariance_backward(const ProjectionCameraT<T>& cam, const Vec3T<T>& p_cam, const Mat3T<T>& sigma,
                                 const Sym2T<T>& dcov, Vec3T<T>& dp_cam, Mat3T<T>& dsigma) {
  const EwaRowsT<T> e = ewa_rows(cam, p_cam);
  const Vec3T<T> s0 = sigma * e.g0, s1 = sigma * e.g1;  // Σ is symmetric
  dsigma = dcov.a * glm::outerProduct(e.g0, e.g0) + dcov.b * glm::outerProduct(e.g0, e.g1) +
           dcov.c * glm::outerProduct(e.g1, e.g1);
  // dL/dg, then dL/dj = R_cam dL/dg.
  const Vec3T<T> dj0 = cam.R * (T(2) * dcov.a * s0 + dcov.b * s1);
  const Vec3T<T> dj1 = cam.R * (dcov.b * s0 + T(2) * dcov.c * s1);
  const T rz = T(1) / p_cam.z, rz2 = rz * rz;
  const T u = e.u, v = e.v;
  // z enters J directly (1/z) and, unless clamped, through u = x/z and v = y/z.
  T dz = -cam.fx * rz2 * dj0.x - cam.fy * rz2 * dj1.y + cam.fx * u * rz2 * dj0.z + cam.fy * v * rz2 * dj1.z;
  if (e.free_x) {
    const T du = -cam.fx * rz * dj0.z;
    dp_cam.x += du * rz;
    dz -= du * u * rz;
  }
  if (e.free_y) {
    const T dv = -cam.fy * rz * dj1.z;
    dp_cam.y += dv * rz;
    dz -= dv * v * rz;
  }
  dp_cam.z += dz;
}

// ---- conic and screen radius -------------------------------------------------------

// The conic Σ2D⁻¹; false when Σ2D is not positive definite (the Gaussian is culled).
template <class T>
SP_HD bool invert_covariance(const Sym2T<T>& cov, Sym2T<T>& conic) {
  const T det = cov.a * cov.c - cov.b * cov.b;
  if (!(det > T(0))) return false;
  const T inv = T(1) / det;
  conic = {cov.c * inv, -cov.b * inv, cov.a * inv};
  return true;
}

// dL/dΣ2D from dL/dconic (b is the one off-diagonal scalar on both sides).
template <class T>
SP_HD Sym2T<T> invert_covariance_backward(const Sym2T<T>& cov, const Sym2T<T>& dconic) {
  const T a = cov.a, b = cov.b, c = cov.c;
  const T det = a * c - b * b, inv2 = T(1) / (det * det);
  Sym2T<T> d;
  d.a = (-c * c * dconic.a + b * c * dconic.b - b * b * dconic.c) * inv2;
  d.b = (T(2) * b * c * dconic.a - (det + T(2) * b * b) * dconic.b + T(2) * a * b * dconic.c) * inv2;
  d.c = (-b * b * dconic.a + a * b * dconic.b - a * a * dconic.c) * inv2;
  return d;
}

// ceil(3 sqrt(λmax)) with INRIA's floor of 0.1 under the discriminant; capped far beyond any image.
template <class T>
SP_HD int screen_radius(const Sym2T<T>& cov) {
  const T mid = T(0.5) * (cov.a + cov.c);
  const T det = cov.a * cov.c - cov.b * cov.b;
  const T lambda = mid + std::sqrt(std::max(T(0.1), mid * mid - det));
  const T r = T(3) * std::sqrt(lambda);
  if (!(r < T(1 << 24))) return 1 << 24;
  const int i = int(r);  // ceil without a library call (r > 0)
  return T(i) < r ? i + 1 : i;
}

// ---- the whole projection -------------------------------------------------------------

template <class T>
struct ProjectedGaussianT {
  Vec2T<T> mean2d{T(0)};  // pixels
  T depth = 0;            // view-space z
  Sym2T<T> cov2d;         // including the 0.3 low-pass
  Sym2T<T> conic;
  int radius = 0;
};

// False when culled: behind the near plane, degenerate, or not finite.
template <class T>
SP_HD bool project_gaussian(const ProjectionCameraT<T>& cam, const T* mean, const T* log_scale, const T* quat,
                      ProjectedGaussianT<T>& out) {
  const Vec3T<T> p = cam.R * Vec3T<T>(mean[0], mean[1], mean[2]) + cam.t;
  if (!(p.z > cam.near_plane)) return false;
  out.cov2d = project_covariance(cam, p, covariance_3d(log_scale, quat));
  if (!invert_covariance(out.cov2d, out.conic)) return false;
  out.mean2d = Vec2T<T>(cam.fx * p.x / p.z + cam.cx, cam.fy * p.y / p.z + cam.cy);
  out.depth = p.z;
  if (!std::isfinite(out.mean2d.x) || !std::isfinite(out.mean2d.y) || !std::isfinite(out.conic.a) ||
      !std::isfinite(out.conic.b) || !std::isfinite(out.conic.c))
    return false;
  out.radius = screen_radius(out.cov2d);
  return true;
}

// dL/d(projected quantities) of one Gaussian.
template <class T>
struct ProjectionGradientT {
  Vec2T<T> mean2d{T(0)};
  T depth = 0;
  Sym2T<T> conic;
};

// Accumulates dL/dmean into d_mean; writes d_log_scale[0..2] and d_quat[0..3].
template <class T>
SP_HD void project_gaussian_backward(const ProjectionCameraT<T>& cam, const T* mean, const T* log_scale, const T* quat,
                               const ProjectionGradientT<T>& g, Vec3T<T>& d_mean, T* d_log_scale, T* d_quat) {
  const Vec3T<T> p = cam.R * Vec3T<T>(mean[0], mean[1], mean[2]) + cam.t;
  const T rz = T(1) / p.z;
  const Mat3T<T> sigma = covariance_3d(log_scale, quat);
  const Sym2T<T> cov2d = project_covariance(cam, p, sigma);
  const Sym2T<T> dcov = invert_covariance_backward(cov2d, g.conic);

  Vec3T<T> dp(T(0));
  Mat3T<T> dsigma;
  project_covariance_backward(cam, p, sigma, dcov, dp, dsigma);
  dp.x += cam.fx * rz * g.mean2d.x;
  dp.y += cam.fy * rz * g.mean2d.y;
  dp.z += -(cam.fx * g.mean2d.x * p.x + cam.fy * g.mean2d.y * p.y) * rz * rz + g.depth;
  d_mean += glm::transpose(cam.R) * dp;
  covariance_3d_backward(log_scale, quat, dsigma, d_log_scale, d_quat);
}

}  // namespace sp
