#include "engine/train/losses.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "engine/core/error.h"
#include "engine/core/simd_dispatch.h"
#include "engine/eval/metrics.h"

namespace sp {

namespace {

constexpr int kRadius = 5;  // INRIA: window_size 11, padding = window_size // 2
constexpr int kTaps = 2 * kRadius + 1;
static_assert(kTaps == kSsimWindow);

template <class T>
const T* gaussian_taps() {
  static const std::vector<T> taps = [] {
    const std::vector<double> g = ssim_gaussian_window();
    return std::vector<T>(g.begin(), g.end());
  }();
  return taps.data();
}

// Scratch planes reused across calls by the calling thread (training calls the loss every
// iteration at the same size: no page faults from fresh multi-megabyte allocations).
template <class T>
struct Workspace {
  std::vector<T> in, mom, tmp;
  std::vector<double> row_sum;
};
template <class T>
Workspace<T>& workspace() {
  thread_local Workspace<T> ws;
  return ws;
}

// out = the 11-tap Gaussian along one row of w values, zero padding ('same' size).
template <class T>
SP_VECTOR_CLONES void filter_row(const T* in, T* out, int w, const T* g) {
  std::fill(out, out + w, T(0));
  for (int k = 0; k < kTaps; ++k) {
    // out[x] += g[k] * in[x + k - 5] for the x where that input is inside the row.
    const int off = k - kRadius;
    const int x0 = std::max(0, -off), x1 = std::min(w, w - off);
    const T gk = g[k];
    for (int x = x0; x < x1; ++x) out[x] += gk * in[x + off];
  }
}

// out = Σ_k g[k0 + k] rows[k] over the taps k0..k1-1 (rows[k] is row y + k - 5): the
// vertical pass at one output row.
template <class T>
SP_VECTOR_CLONES void filter_column(const T* plane, T* out, int w, int y, int k0, int k1, const T* g) {
  std::fill(out, out + w, T(0));
  for (int k = k0; k < k1; ++k) {
    const T* row = plane + size_t(y + k - kRadius) * w;
    const T gk = g[k];
    for (int x = 0; x < w; ++x) out[x] += gk * row[x];
  }
}

// Filters `planes` planes of w x h (plane p at src + p*w*h) with the separable 11-tap
// Gaussian, 'same' size, zero padding; tmp is scratch of the same size. The filter is
// symmetric, so this operator is its own adjoint: the backward pass reuses it.
template <class T>
void filter_same(const T* src, T* dst, T* tmp, int planes, int w, int h) {
  const T* g = gaussian_taps<T>();
  const size_t plane = size_t(w) * h;
  const int rows = planes * h;
#pragma omp parallel
  {
#pragma omp for schedule(static)
    for (int r = 0; r < rows; ++r)  // rows of consecutive planes are contiguous
      filter_row(src + size_t(r) * w, tmp + size_t(r) * w, w, g);
#pragma omp for schedule(static)
    for (int r = 0; r < rows; ++r) {
      const int p = r / h, y = r % h;
      const int k0 = std::max(0, kRadius - y), k1 = std::min(kTaps, h + kRadius - y);
      filter_column(tmp + size_t(p) * plane, dst + size_t(r) * w, w, y, k0, k1, g);
    }
  }
}

void check_shapes(const char* what, int width, int height, int channels) {
  if (width <= 0 || height <= 0 || channels <= 0)
    throw_internal(std::string(what) + ": empty image " + std::to_string(width) + "x" + std::to_string(height) + "x" +
                   std::to_string(channels));
}

void check_same(const char* what, const Image& a, const Image& b) {
  if (a.width != b.width || a.height != b.height || a.channels != b.channels || a.pixels.size() != b.pixels.size())
    throw_internal(std::string(what) + ": render " + std::to_string(a.width) + "x" + std::to_string(a.height) + "x" +
                   std::to_string(a.channels) + " and target " + std::to_string(b.width) + "x" +
                   std::to_string(b.height) + "x" + std::to_string(b.channels) + " differ in shape");
  check_shapes(what, a.width, a.height, a.channels);
}

}  // namespace

template <class T>
double l1_loss_raw(int width, int height, int channels, const T* a, const T* b, T* grad, T scale, bool accumulate,
                   const T* pixel_weight) {
  check_shapes("l1_loss", width, height, channels);
  const int h = height;
  const size_t row = size_t(width) * channels;
  const T g = scale / T(double(row) * h);
  std::vector<double> row_sum(static_cast<size_t>(h));
#pragma omp parallel for schedule(static)
  for (int y = 0; y < h; ++y) {
    const T* pa = a + size_t(y) * row;
    const T* pb = b + size_t(y) * row;
    const T* pw = pixel_weight ? pixel_weight + size_t(y) * width : nullptr;
    double s = 0;
    for (size_t i = 0; i < row; ++i)
      s += (pw ? double(pw[i / size_t(channels)]) : 1.0) * std::abs(double(pa[i]) - double(pb[i]));
    row_sum[size_t(y)] = s;
    if (grad) {
      T* pg = grad + size_t(y) * row;
      for (size_t i = 0; i < row; ++i) {
        const T d = pa[i] - pb[i];
        const T gi = pw ? g * pw[i / size_t(channels)] : g;
        const T v = d > 0 ? gi : (d < 0 ? -gi : T(0));
        pg[i] = accumulate ? pg[i] + v : v;
      }
    }
  }
  double s = 0;
  for (double v : row_sum) s += v;
  return s / (double(row) * h);
}

template <class T>
double ssim_train_raw(int width, int height, int channels, const T* a, const T* b, T* grad, T scale, bool accumulate,
                      const T* pixel_weight) {
  check_shapes("ssim_train", width, height, channels);
  const int w = width, h = height, nc = channels;
  const size_t n = size_t(w) * h;
  const T C1 = T(0.01 * 0.01), C2 = T(0.03 * 0.03);
  Workspace<T>& ws = workspace<T>();
  // Planes, channel c of map m at plane m*nc + c: maps x, y, x², y², xy.
  const int maps = 5 * nc;
  ws.in.resize(size_t(maps) * n);
  ws.mom.resize(size_t(maps) * n);
  ws.tmp.resize(size_t(maps) * n);
  ws.row_sum.assign(size_t(nc) * h, 0.0);
  T* in = ws.in.data();
  T* mom = ws.mom.data();
  auto plane = [&](T* base, int m, int c) { return base + (size_t(m) * nc + c) * n; };

#pragma omp parallel for schedule(static)
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const size_t px = size_t(y) * w + x;
      for (int c = 0; c < nc; ++c) {
        const T p = a[px * nc + c], q = b[px * nc + c];
        plane(in, 0, c)[px] = p;
        plane(in, 1, c)[px] = q;
        plane(in, 2, c)[px] = p * p;
        plane(in, 3, c)[px] = q * q;
        plane(in, 4, c)[px] = p * q;
      }
    }
  filter_same(in, mom, ws.tmp.data(), maps, w, h);

  // SSIM map S = A1 A2 / (B1 B2) with A1 = 2 ux uy + C1, A2 = 2 sxy + C2,
  // B1 = ux² + uy² + C1, B2 = sx² + sy² + C2, where s.. = E[..] - products of means.
  // Its partial derivatives w.r.t. the filtered moments (ux, E[x²], E[xy]) are
  //   dS/dux    = (2 uy (A2 - A1) - 2 ux S (B2 - B1)) / (B1 B2)
  //   dS/dE[x²] = -S / B2
  //   dS/dE[xy] = 2 A1 / (B1 B2)
  // and, as ux = G*x, E[x²] = G*(x²), E[xy] = G*(xy) with a self-adjoint G,
  //   dSSIM/dx = G*(dux) + 2 x G*(dxx) + y G*(dxy)   (each d.. scaled by 1 / (N C)).
  // The three derivative maps overwrite the x², y², xy input planes (no longer needed).
  const T inv_count = T(1.0 / (double(n) * nc));
#pragma omp parallel for collapse(2) schedule(static)
  for (int c = 0; c < nc; ++c)
    for (int y = 0; y < h; ++y) {
      const size_t r0 = size_t(y) * w;
      const T* ux = plane(mom, 0, c) + r0;
      const T* uy = plane(mom, 1, c) + r0;
      const T* exx = plane(mom, 2, c) + r0;
      const T* eyy = plane(mom, 3, c) + r0;
      const T* exy = plane(mom, 4, c) + r0;
      T* d_mu = plane(in, 2, c) + r0;
      T* d_xx = plane(in, 3, c) + r0;
      T* d_xy = plane(in, 4, c) + r0;
      const T* pw = pixel_weight ? pixel_weight + r0 : nullptr;
      double s = 0;
      for (int x = 0; x < w; ++x) {
        const T mx = ux[x], my = uy[x];
        const T A1 = 2 * mx * my + C1, A2 = 2 * (exy[x] - mx * my) + C2;
        const T B1 = mx * mx + my * my + C1, B2 = (exx[x] - mx * mx) + (eyy[x] - my * my) + C2;
        const T inv_b = T(1) / (B1 * B2);
        const T S = A1 * A2 * inv_b;
        const T wx = pw ? pw[x] : T(1);
        s += double(wx) * double(S);
        if (grad) {
          const T k = inv_count * wx;
          d_mu[x] = k * (2 * my * (A2 - A1) - 2 * mx * S * (B2 - B1)) * inv_b;
          d_xx[x] = k * (-S / B2);
          d_xy[x] = k * (2 * A1 * inv_b);
        }
      }
      ws.row_sum[size_t(c) * h + y] = s;
    }
  double total = 0;
  for (double v : ws.row_sum) total += v;
  const double value = total / (double(n) * nc);
  if (!grad) return value;

  // Back through the filter: 3 maps per channel, planes 2*nc .. 5*nc of `in` -> `mom`.
  T* back = mom;  // the moments are no longer needed
  filter_same(plane(in, 2, 0), back, ws.tmp.data(), 3 * nc, w, h);
#pragma omp parallel for schedule(static)
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const size_t px = size_t(y) * w + x;
      for (int c = 0; c < nc; ++c) {
        const T g_mu = back[(size_t(0) * nc + c) * n + px];
        const T g_xx = back[(size_t(1) * nc + c) * n + px];
        const T g_xy = back[(size_t(2) * nc + c) * n + px];
        const T v = scale * (g_mu + 2 * a[px * nc + c] * g_xx + b[px * nc + c] * g_xy);
        T& out = grad[px * nc + c];
        out = accumulate ? out + v : v;
      }
    }
  return value;
}

template double l1_loss_raw<float>(int, int, int, const float*, const float*, float*, float, bool, const float*);
template double l1_loss_raw<double>(int, int, int, const double*, const double*, double*, double, bool,
                                    const double*);
template double ssim_train_raw<float>(int, int, int, const float*, const float*, float*, float, bool, const float*);
template double ssim_train_raw<double>(int, int, int, const double*, const double*, double*, double, bool,
                                       const double*);

double l1_loss(const Image& render, const Image& target, Image* grad) {
  check_same("l1_loss", render, target);
  if (grad) *grad = Image(render.width, render.height, render.channels);
  return l1_loss_raw<float>(render.width, render.height, render.channels, render.pixels.data(), target.pixels.data(),
                            grad ? grad->pixels.data() : nullptr, 1.0f, false);
}

double ssim_train(const Image& render, const Image& target, Image* grad) {
  check_same("ssim_train", render, target);
  if (grad) *grad = Image(render.width, render.height, render.channels);
  return ssim_train_raw<float>(render.width, render.height, render.channels, render.pixels.data(),
                               target.pixels.data(), grad ? grad->pixels.data() : nullptr, 1.0f, false);
}

PhotometricLoss photometric_loss(const Image& render, const Image& target, float ssim_weight) {
  check_same("photometric_loss", render, target);
  PhotometricLoss out;
  out.grad = Image(render.width, render.height, render.channels);
  const int w = render.width, h = render.height, c = render.channels;
  // d/dx [(1 - λ) L1 + λ (1 - SSIM)] = (1 - λ) dL1/dx - λ dSSIM/dx, into one buffer.
  out.l1 = l1_loss_raw<float>(w, h, c, render.pixels.data(), target.pixels.data(), out.grad.pixels.data(),
                              1.0f - ssim_weight, false);
  out.ssim = ssim_train_raw<float>(w, h, c, render.pixels.data(), target.pixels.data(), out.grad.pixels.data(),
                                   -ssim_weight, true);
  out.value = (1.0 - ssim_weight) * out.l1 + ssim_weight * (1.0 - out.ssim);
  return out;
}

PhotometricLoss masked_photometric_loss(const Image& render, const Image& target, const Image& weight,
                                        float ssim_weight) {
  if (weight.empty()) return photometric_loss(render, target, ssim_weight);
  check_same("masked_photometric_loss", render, target);
  if (weight.width != render.width || weight.height != render.height || weight.channels != 1)
    throw_internal("masked_photometric_loss: the mask must be 1 channel at the render's size");
  PhotometricLoss out;
  out.grad = Image(render.width, render.height, render.channels);
  const int w = render.width, h = render.height, c = render.channels;
  const float* pw = weight.pixels.data();
  out.l1 = l1_loss_raw<float>(w, h, c, render.pixels.data(), target.pixels.data(), out.grad.pixels.data(),
                              1.0f - ssim_weight, false, pw);
  out.ssim = ssim_train_raw<float>(w, h, c, render.pixels.data(), target.pixels.data(), out.grad.pixels.data(),
                                   -ssim_weight, true, pw);
  double mean_w = 0;
  for (float v : weight.pixels) mean_w += double(v);
  mean_w /= double(weight.pixels.size());
  // mean of w (1 - S) = mean(w) - mean(w S).
  out.value = (1.0 - ssim_weight) * out.l1 + ssim_weight * (mean_w - out.ssim);
  return out;
}

}  // namespace sp
