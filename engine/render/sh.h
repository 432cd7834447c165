#pragma once
// View-dependent colour from real spherical harmonics up to degree 3, with the constants and
// sign convention of INRIA 3DGS / gsplat, templated on the scalar (float in the renderer,
// double in the gradient tests). See docs/rasterizer.md.
//
//   n      = (mean − camera centre) / |mean − camera centre|
//   colour = max(0, Σ_k Y_k(n) coeff_k + 0.5)       per RGB channel
//
// Coefficients of one Gaussian are K x 3 with RGB innermost (GaussianModel layout). A clamped
// channel passes no gradient (INRIA's rule). The backward pass also returns dL/d(direction),
// which flows into the Gaussian's mean.
#include <algorithm>
#include <cmath>

#include "engine/render/project.h"

namespace sp {

namespace shc {
inline constexpr double C0 = 0.28209479177387814;
inline constexpr double C1 = 0.4886025119029199;
// Degree-2 and degree-3 constants through functions, so that device code (nvcc) can read them.
SP_HD constexpr double C2(int i) {
  constexpr double v[5] = {1.0925484305920792, -1.0925484305920792, 0.31539156525252005, -1.0925484305920792, 0.5462742152960396};
  return v[i];
}
SP_HD constexpr double C3(int i) {
  constexpr double v[7] = {-0.5900435899266435, 2.890611442640554, -0.4570457994644658, 0.3731763325901154, -0.4570457994644658, 1.445305721320277, -0.5900435899266435};
  return v[i];
}
}  // namespace shc

// The (degree + 1)² basis values at the unit direction n.
template <class T>
SP_HD void sh_basis(int degree, const Vec3T<T>& n, T* Y) {
  const T x = n.x, y = n.y, z = n.z;
  Y[0] = T(shc::C0);
  if (degree < 1) return;
  Y[1] = -T(shc::C1) * y;
  Y[2] = T(shc::C1) * z;
  Y[3] = -T(shc::C1) * x;
  if (degree < 2) return;
  const T xx = x * x, yy = y * y, zz = z * z, xy = x * y, yz = y * z, xz = x * z;
  Y[4] = T(shc::C2(0)) * xy;
  Y[5] = T(shc::C2(1)) * yz;
  Y[6] = T(shc::C2(2)) * (T(2) * zz - xx - yy);
  Y[7] = T(shc::C2(3)) * xz;
  Y[8] = T(shc::C2(4)) * (xx - yy);
  if (degree < 3) return;
  Y[9] = T(shc::C3(0)) * y * (T(3) * xx - yy);
  Y[10] = T(shc::C3(1)) * xy * z;
  Y[11] = T(shc::C3(2)) * y * (T(4) * zz - xx - yy);
  Y[12] = T(shc::C3(3)) * z * (T(2) * zz - T(3) * xx - T(3) * yy);
  Y[13] = T(shc::C3(4)) * x * (T(4) * zz - xx - yy);
  Y[14] = T(shc::C3(5)) * z * (xx - yy);
  Y[15] = T(shc::C3(6)) * x * (xx - T(3) * yy);
}

// Σ_k s_k ∇Y_k(n): the gradient of a weighted sum of basis functions, n treated as free.
template <class T>
SP_HD Vec3T<T> sh_basis_gradient(int degree, const Vec3T<T>& n, const T* s) {
  const T x = n.x, y = n.y, z = n.z;
  Vec3T<T> g(T(0));
  if (degree < 1) return g;
  const T c1 = T(shc::C1);
  g += Vec3T<T>(T(0), -c1, T(0)) * s[1] + Vec3T<T>(T(0), T(0), c1) * s[2] + Vec3T<T>(-c1, T(0), T(0)) * s[3];
  if (degree < 2) return g;
  const T xx = x * x, yy = y * y, zz = z * z, xy = x * y, yz = y * z, xz = x * z;
  T c2[5];
  for (int i = 0; i < 5; ++i) c2[i] = T(shc::C2(i));
  g += Vec3T<T>(c2[0] * y, c2[0] * x, T(0)) * s[4];
  g += Vec3T<T>(T(0), c2[1] * z, c2[1] * y) * s[5];
  g += Vec3T<T>(-T(2) * c2[2] * x, -T(2) * c2[2] * y, T(4) * c2[2] * z) * s[6];
  g += Vec3T<T>(c2[3] * z, T(0), c2[3] * x) * s[7];
  g += Vec3T<T>(T(2) * c2[4] * x, -T(2) * c2[4] * y, T(0)) * s[8];
  if (degree < 3) return g;
  T c3[7];
  for (int i = 0; i < 7; ++i) c3[i] = T(shc::C3(i));
  g += Vec3T<T>(T(6) * c3[0] * xy, c3[0] * (T(3) * xx - T(3) * yy), T(0)) * s[9];
  g += Vec3T<T>(c3[1] * yz, c3[1] * xz, c3[1] * xy) * s[10];
  g += Vec3T<T>(-T(2) * c3[2] * xy, c3[2] * (T(4) * zz - xx - T(3) * yy), T(8) * c3[2] * yz) * s[11];
  g += Vec3T<T>(-T(6) * c3[3] * xz, -T(6) * c3[3] * yz, c3[3] * (T(6) * zz - T(3) * xx - T(3) * yy)) * s[12];
  g += Vec3T<T>(c3[4] * (T(4) * zz - T(3) * xx - yy), -T(2) * c3[4] * xy, T(8) * c3[4] * xz) * s[13];
  g += Vec3T<T>(T(2) * c3[5] * xz, -T(2) * c3[5] * yz, c3[5] * (xx - yy)) * s[14];
  g += Vec3T<T>(c3[6] * (T(3) * xx - T(3) * yy), -T(6) * c3[6] * xy, T(0)) * s[15];
  return g;
}

// Unit view direction; +z for a zero vector (a Gaussian at the camera centre).
template <class T>
SP_HD Vec3T<T> sh_direction(const Vec3T<T>& dir) {
  const T n2 = glm::dot(dir, dir);
  return n2 > T(0) ? dir / std::sqrt(n2) : Vec3T<T>(T(0), T(0), T(1));
}

// Colour of one Gaussian; `clamped[c]` says the channel was cut at 0 (no gradient then).
template <class T>
SP_HD Vec3T<T> sh_to_color(int degree, const T* coeffs, const Vec3T<T>& dir, bool* clamped) {
  T Y[16];
  sh_basis(degree, sh_direction(dir), Y);
  const int K = (degree + 1) * (degree + 1);
  Vec3T<T> rgb(T(0.5));
  for (int k = 0; k < K; ++k)
    for (int c = 0; c < 3; ++c) rgb[c] += Y[k] * coeffs[k * 3 + c];
  for (int c = 0; c < 3; ++c) {
    clamped[c] = rgb[c] < T(0);
    rgb[c] = std::max(rgb[c], T(0));
  }
  return rgb;
}

// Writes dL/dcoeffs for the (degree + 1)² active coefficients (K x 3) and accumulates
// dL/d(un-normalized direction) into d_dir.
template <class T>
SP_HD void sh_to_color_backward(int degree, const T* coeffs, const Vec3T<T>& dir, const Vec3T<T>& d_color,
                          const bool* clamped, T* d_coeffs, Vec3T<T>& d_dir) {
  const T n2 = glm::dot(dir, dir);
  const Vec3T<T> n = sh_direction(dir);
  T Y[16];
  sh_basis(degree, n, Y);
  Vec3T<T> g;
  for (int c = 0; c < 3; ++c) g[c] = clamped[c] ? T(0) : d_color[c];
  const int K = (degree + 1) * (degree + 1);
  T s[16];  // dL/dY_k
  for (int k = 0; k < K; ++k) {
    s[k] = T(0);
    for (int c = 0; c < 3; ++c) {
      d_coeffs[k * 3 + c] = Y[k] * g[c];
      s[k] += g[c] * coeffs[k * 3 + c];
    }
  }
  if (degree < 1 || !(n2 > T(0))) return;
  const Vec3T<T> dn = sh_basis_gradient(degree, n, s);
  // n = v/|v| has Jacobian (I − n nᵀ)/|v|.
  d_dir += (dn - n * glm::dot(n, dn)) / std::sqrt(n2);
}

}  // namespace sp
