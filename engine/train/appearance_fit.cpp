#include "engine/train/appearance_fit.h"

#include <algorithm>
#include <cmath>

#include "engine/core/error.h"
#include "engine/train/appearance.h"

namespace sp {

namespace {

// Solves the 4x4 system M x = y (symmetric positive definite) by Gaussian elimination with
// partial pivoting.
bool solve4(double M[4][4], double y[4], double x[4]) {
  double a[4][5];
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) a[i][j] = M[i][j];
    a[i][4] = y[i];
  }
  for (int c = 0; c < 4; ++c) {
    int p = c;
    for (int r = c + 1; r < 4; ++r)
      if (std::abs(a[r][c]) > std::abs(a[p][c])) p = r;
    if (!(std::abs(a[p][c]) > 1e-300)) return false;
    for (int j = 0; j < 5; ++j) std::swap(a[c][j], a[p][j]);
    for (int r = 0; r < 4; ++r)
      if (r != c) {
        const double f = a[r][c] / a[c][c];
        for (int j = c; j < 5; ++j) a[r][j] -= f * a[c][j];
      }
  }
  for (int i = 0; i < 4; ++i) x[i] = a[i][4] / a[i][i];
  return true;
}

}  // namespace

std::vector<float> fit_appearance_code(const Image& render, const Image& photo, const Image& region,
                                       int reweighting_rounds) {
  if (render.channels != 3 || photo.channels != 3 || render.width != photo.width || render.height != photo.height)
    throw_internal("fit_appearance_code: render and photo must be RGB images of one size");
  if (!region.empty() && (region.width != render.width || region.height != render.height || region.channels != 1))
    throw_internal("fit_appearance_code: region must be 1 channel at the images' size");
  const size_t n = render.pixel_count();
  std::vector<float> code = identity_appearance_code();
  std::vector<double> weight(n, 1.0);
  size_t used = 0;
  for (size_t p = 0; p < n; ++p) {
    if (!region.empty() && !(region.pixels[p] > 0.5f)) weight[p] = 0.0;
    used += weight[p] > 0;
  }
  if (used == 0) return code;
  for (int round = 0; round <= reweighting_rounds; ++round) {
    // Per output channel i: minimize Σ w (A_i · c + b_i - photo_i)² + λ |(A_i, b_i) - identity_i|².
    double M[4][4] = {}, Y[3][4] = {};
    double wsum = 0;
    for (size_t p = 0; p < n; ++p) {
      if (weight[p] == 0) continue;
      const double x[4] = {render.pixels[3 * p], render.pixels[3 * p + 1], render.pixels[3 * p + 2], 1.0};
      for (int a = 0; a < 4; ++a) {
        for (int b = 0; b < 4; ++b) M[a][b] += weight[p] * x[a] * x[b];
        for (int i = 0; i < 3; ++i) Y[i][a] += weight[p] * x[a] * photo.pixels[3 * p + size_t(i)];
      }
      wsum += weight[p];
    }
    const double ridge = 1e-4 * wsum;
    for (int a = 0; a < 4; ++a) M[a][a] += ridge;
    for (int i = 0; i < 3; ++i) {
      double y[4], x[4];
      for (int a = 0; a < 4; ++a) y[a] = Y[i][a] + ridge * (a == i ? 1.0 : 0.0);
      double Mc[4][4];
      std::copy(&M[0][0], &M[0][0] + 16, &Mc[0][0]);
      if (!solve4(Mc, y, x)) return identity_appearance_code();
      for (int j = 0; j < 3; ++j) code[size_t(3 * i + j)] = float(x[j]);
      code[size_t(9 + i)] = float(x[3]);
    }
    if (round == reweighting_rounds) break;
    const Image fitted = apply_affine_colour(code, render);
    for (size_t p = 0; p < n; ++p) {
      if (weight[p] == 0) continue;
      double r = 0;
      for (int i = 0; i < 3; ++i) r += std::abs(double(fitted.pixels[3 * p + size_t(i)]) - photo.pixels[3 * p + size_t(i)]);
      weight[p] = 1.0 / std::max(r / 3.0, 1.0 / 255.0);
    }
  }
  return code;
}

}  // namespace sp
