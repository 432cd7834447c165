#pragma once
// The per-element bodies of the training kernels (cuda/train_kernels.cu): each kernel is
// "idx = global thread index; if in range, call the function below". They are
// __host__ __device__ so tests/cuda/test_train_elements.cpp can run the very same index
// math on the CPU (a loop over idx standing in for the grid) against the engine/train
// references, on a machine without a GPU.
#include <cmath>
#include <cstddef>

#include "cuda/flat_params.h"
#include "engine/render/project.h"  // SP_HD

namespace sp::train_elements {

constexpr int kRadius = 5;  // INRIA's SSIM window: 11 taps, padding 5
constexpr int kTaps = 2 * kRadius + 1;

struct Taps {
  float g[kTaps];
};

// Planes of n = w x h pixels; plane (m * nc + c) holds map m of channel c, m = x, y, x², y², xy.
// idx: HWC index of render/target.
SP_HD inline void ssim_pack(size_t idx, int n, int nc, const float* a, const float* b, float* in) {
  const size_t px = idx / size_t(nc);
  const size_t c = idx % size_t(nc);
  const float p = a[idx], q = b[idx];
  in[(0 * size_t(nc) + c) * size_t(n) + px] = p;
  in[(1 * size_t(nc) + c) * size_t(n) + px] = q;
  in[(2 * size_t(nc) + c) * size_t(n) + px] = p * p;
  in[(3 * size_t(nc) + c) * size_t(n) + px] = q * q;
  in[(4 * size_t(nc) + c) * size_t(n) + px] = p * q;
}

// Horizontal 'same' filter, zero padding; rows of consecutive planes are contiguous.
// idx: element of a (rows x w) array. dst[r][x] = Σ_k g[k] src[r][x + k - 5].
SP_HD inline void filter_row(size_t idx, int w, const float* src, float* dst, const Taps& t) {
  const int x = int(idx % size_t(w));
  const float* in = src + (idx - size_t(x));
  float s = 0.0f;
  for (int k = 0; k < kTaps; ++k) {
    const int xx = x + k - kRadius;
    if (xx >= 0 && xx < w) s += t.g[k] * in[xx];
  }
  dst[idx] = s;
}

// Vertical pass. idx: element of (planes x h x w). dst[p][y][x] = Σ_k g[k] src[p][y + k - 5][x].
SP_HD inline void filter_col(size_t idx, int w, int h, const float* src, float* dst, const Taps& t) {
  const size_t plane = size_t(w) * size_t(h);
  const size_t p = idx / plane;
  const size_t r = idx % plane;
  const int y = int(r / size_t(w)), x = int(r % size_t(w));
  const float* base = src + p * plane;
  float s = 0.0f;
  for (int k = 0; k < kTaps; ++k) {
    const int yy = y + k - kRadius;
    if (yy >= 0 && yy < h) s += t.g[k] * base[size_t(yy) * size_t(w) + size_t(x)];
  }
  dst[idx] = s;
}

// The SSIM map at idx = c * n + px from the filtered moments; returns S and writes the three
// derivative maps (divided by the element count, as losses.cpp) over planes 2..4 of `in`.
SP_HD inline float ssim_map(size_t idx, int n, int nc, const float* mom, float* in) {
  const size_t c = idx / size_t(n);
  const size_t px = idx % size_t(n);
  const size_t N = size_t(n), NC = size_t(nc);
  const float C1 = float(0.01 * 0.01), C2 = float(0.03 * 0.03);
  const float mx = mom[(0 * NC + c) * N + px], my = mom[(1 * NC + c) * N + px];
  const float exx = mom[(2 * NC + c) * N + px], eyy = mom[(3 * NC + c) * N + px];
  const float exy = mom[(4 * NC + c) * N + px];
  const float A1 = 2 * mx * my + C1, A2 = 2 * (exy - mx * my) + C2;
  const float B1 = mx * mx + my * my + C1, B2 = (exx - mx * mx) + (eyy - my * my) + C2;
  const float inv_b = 1.0f / (B1 * B2);
  const float S = A1 * A2 * inv_b;
  const float k = float(1.0 / (double(n) * double(nc)));
  in[(2 * NC + c) * N + px] = k * (2 * my * (A2 - A1) - 2 * mx * S * (B2 - B1)) * inv_b;
  in[(3 * NC + c) * N + px] = k * (-S / B2);
  in[(4 * NC + c) * N + px] = k * (2 * A1 * inv_b);
  return S;
}

// dL/d(render) at HWC index idx from the filtered derivative maps `back` (planes 0..3nc):
//   grad_scale · ((1 - λ) sign(a - b) / count - λ (G*dμ + 2 a G*dxx + b G*dxy)).
// abs_diff receives |a - b| in double (the L1 and MSE sums).
SP_HD inline void loss_grad(size_t idx, int n, int nc, const float* a, const float* b, const float* back,
                            float lambda, float grad_scale, float* grad, double* abs_diff) {
  const size_t px = idx / size_t(nc);
  const size_t c = idx % size_t(nc);
  const size_t N = size_t(n), NC = size_t(nc);
  const float p = a[idx], q = b[idx];
  const float d = p - q;
  *abs_diff = fabs(double(p) - double(q));
  const float g1 = (1.0f - lambda) / float(double(n) * double(nc));
  const float l1 = d > 0 ? g1 : (d < 0 ? -g1 : 0.0f);
  const float g_mu = back[(0 * NC + c) * N + px];
  const float g_xx = back[(1 * NC + c) * N + px];
  const float g_xy = back[(2 * NC + c) * N + px];
  grad[idx] = grad_scale * (l1 - lambda * (g_mu + 2 * p * g_xx + q * g_xy));
}

// Adam (adam.cpp's adam_array) on flat element i; step_size per group = lr / (1 - β1^t).
struct AdamConstants {
  float step_size[kAdamGroups];
  float inv_sqrt_bc2;  // 1 / sqrt(1 - β2^t)
  float b1, b2, eps;
};
SP_HD inline void adam(size_t i, const FlatLayout& layout, const AdamConstants& a, float* p, const float* g, float* m,
                       float* v) {
  const float step_size = a.step_size[flat_adam_group(layout, i)];
  const float gi = g[i];
  const float mi = a.b1 * m[i] + (1 - a.b1) * gi;
  const float vi = a.b2 * v[i] + (1 - a.b2) * gi * gi;
  m[i] = mi;
  v[i] = vi;
  p[i] -= step_size * mi / (sqrtf(vi) * a.inv_sqrt_bc2 + a.eps);
}

// DensityController::accumulate for Gaussian i; sx, sy = width / 2, height / 2.
SP_HD inline void densify_stats(size_t i, const int* radii, const float* means2d, float sx, float sy,
                                float* grad_accum, float* visible_count, float* max_radius) {
  if (radii[i] <= 0) return;
  const float gx = means2d[i * 2] * sx, gy = means2d[i * 2 + 1] * sy;
  grad_accum[i] += sqrtf(gx * gx + gy * gy);
  visible_count[i] += 1.0f;
  max_radius[i] = fmaxf(max_radius[i], float(radii[i]));
}

}  // namespace sp::train_elements
