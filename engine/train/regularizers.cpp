#include "engine/train/regularizers.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace sp {

template <class T>
double opacity_entropy(const T* logits, size_t n, T* grad, T weight) {
  if (n == 0) return 0;
  double sum = 0;
  const T k = weight / T(n);
  for (size_t i = 0; i < n; ++i) {
    const T x = logits[i];
    // ln o = -softplus(-x), ln(1 - o) = -softplus(x): stable for large |x|.
    const T o = T(1) / (T(1) + std::exp(-x));
    const T sp_pos = x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));   // softplus(x)
    const T sp_neg = x > 0 ? std::log1p(std::exp(-x)) : -x + std::log1p(std::exp(x));  // softplus(-x)
    sum += double(o * sp_neg + (T(1) - o) * sp_pos);
    if (grad) grad[i] += k * (-x * o * (T(1) - o));
  }
  return sum / double(n);
}

template <class T>
double masked_alpha_penalty(const T* alpha, const T* mask, size_t n, T* grad, T weight) {
  size_t count = 0;
  for (size_t i = 0; i < n; ++i) count += mask[i] > T(0.5);
  if (count == 0) return 0;
  double sum = 0;
  const T k = T(2) * weight / T(count);
  for (size_t i = 0; i < n; ++i) {
    if (!(mask[i] > T(0.5))) continue;
    sum += double(alpha[i] * alpha[i]);
    if (grad) grad[i] += k * alpha[i];
  }
  return sum / double(count);
}

template <class T>
double depth_prior_l1(const T* depth, const T* alpha, const T* target, size_t n, T* grad_depth, T* grad_alpha,
                      T weight) {
  size_t count = 0;
  double z_sum = 0;
  for (size_t i = 0; i < n; ++i)
    if (target[i] > T(0)) {
      ++count;
      z_sum += double(target[i]);
    }
  if (count == 0) return 0;
  const T z_mean = T(z_sum / double(count));
  const T k = weight / (T(count) * z_mean);
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    const T z = target[i];
    if (!(z > T(0))) continue;
    const T r = depth[i] - alpha[i] * z;
    sum += double(std::abs(r));
    const T sign = r > T(0) ? T(1) : r < T(0) ? T(-1) : T(0);
    if (grad_depth) grad_depth[i] += k * sign;
    if (grad_alpha) grad_alpha[i] -= k * sign * z;
  }
  return sum / (double(count) * double(z_mean));
}

template <class T>
double scale_penalty(const T* log_scales, size_t n, T limit, T* grad, T weight) {
  if (n == 0) return 0;
  double sum = 0;
  const T k = weight / (T(n) * limit);
  for (size_t i = 0; i < n * 3; ++i) {
    const T s = std::exp(log_scales[i]);
    if (s <= limit) continue;
    sum += double((s - limit) / limit);
    if (grad) grad[i] += k * s;
  }
  return sum / double(n);
}

template <class T>
double anisotropy_penalty(const T* log_scales, size_t n, T max_ratio, T* grad, T weight) {
  if (n == 0) return 0;
  const T log_ratio = std::log(max_ratio);
  const T k = weight / T(n);
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    const T* s = log_scales + i * 3;
    const int hi = int(std::max_element(s, s + 3) - s), lo = int(std::min_element(s, s + 3) - s);
    const T excess = s[hi] - s[lo] - log_ratio;
    if (excess <= 0) continue;
    sum += double(excess);
    if (grad) {
      grad[i * 3 + size_t(hi)] += k;
      grad[i * 3 + size_t(lo)] -= k;
    }
  }
  return sum / double(n);
}

template <class T>
double edge_aware_depth_smoothness(int width, int height, const T* depth, const T* guide, T depth_scale, T gamma,
                                   T* grad, T weight) {
  const long pairs = long(width - 1) * height + long(width) * (height - 1);
  if (pairs <= 0) return 0;
  const T k = weight * depth_scale / T(pairs);
  auto edge_weight = [&](size_t a, size_t b) {
    const T d = (std::abs(guide[a * 3] - guide[b * 3]) + std::abs(guide[a * 3 + 1] - guide[b * 3 + 1]) +
                 std::abs(guide[a * 3 + 2] - guide[b * 3 + 2])) / T(3);
    return std::exp(-gamma * d);
  };
  // Rows are independent for the value; the gradient of a pixel gets contributions from its
  // up/left neighbours, so accumulate serially per row pair to keep a fixed order.
  std::vector<double> row_sum(size_t(height), 0.0);
#pragma omp parallel for schedule(static)
  for (int y = 0; y < height; ++y) {
    double s = 0;
    for (int x = 0; x < width; ++x) {
      const size_t a = size_t(y) * size_t(width) + size_t(x);
      if (x + 1 < width) s += double(edge_weight(a, a + 1) * std::abs(depth[a] - depth[a + 1]));
      if (y + 1 < height) s += double(edge_weight(a, a + size_t(width)) * std::abs(depth[a] - depth[a + size_t(width)]));
    }
    row_sum[size_t(y)] = s;
  }
  if (grad) {
    for (int y = 0; y < height; ++y)
      for (int x = 0; x < width; ++x) {
        const size_t a = size_t(y) * size_t(width) + size_t(x);
        auto pair = [&](size_t b) {
          const T d = depth[a] - depth[b];
          if (d == 0) return;
          const T g = k * edge_weight(a, b) * (d > 0 ? T(1) : T(-1));
          grad[a] += g;
          grad[b] -= g;
        };
        if (x + 1 < width) pair(a + 1);
        if (y + 1 < height) pair(a + size_t(width));
      }
  }
  double total = 0;
  for (double v : row_sum) total += v;
  return total * double(depth_scale) / double(pairs);
}

template <class T>
double edge_aware_depth_curvature(int width, int height, const T* depth, const T* guide, T depth_scale, T gamma,
                                  T* grad, T weight) {
  const long runs = long(std::max(width - 2, 0)) * height + long(width) * std::max(height - 2, 0);
  if (runs <= 0) return 0;
  const T k = weight * depth_scale / T(runs);
  auto edge = [&](size_t a, size_t b) {
    return (std::abs(guide[a * 3] - guide[b * 3]) + std::abs(guide[a * 3 + 1] - guide[b * 3 + 1]) +
            std::abs(guide[a * 3 + 2] - guide[b * 3 + 2])) / T(3);
  };
  // Value per row in parallel; the gradient serially, so sums keep a fixed order.
  std::vector<double> row_sum(size_t(height), 0.0);
#pragma omp parallel for schedule(static)
  for (int y = 0; y < height; ++y) {
    double s = 0;
    for (int x = 0; x < width; ++x) {
      const size_t b = size_t(y) * size_t(width) + size_t(x), W = size_t(width);
      if (x >= 1 && x + 1 < width)
        s += double(std::exp(-gamma * (edge(b - 1, b) + edge(b, b + 1))) * std::abs(depth[b - 1] - 2 * depth[b] + depth[b + 1]));
      if (y >= 1 && y + 1 < height)
        s += double(std::exp(-gamma * (edge(b - W, b) + edge(b, b + W))) * std::abs(depth[b - W] - 2 * depth[b] + depth[b + W]));
    }
    row_sum[size_t(y)] = s;
  }
  if (grad) {
    const size_t W = size_t(width);
    auto run = [&](size_t a, size_t b, size_t c) {
      const T d = depth[a] - 2 * depth[b] + depth[c];
      if (d == 0) return;
      const T g = k * std::exp(-gamma * (edge(a, b) + edge(b, c))) * (d > 0 ? T(1) : T(-1));
      grad[a] += g;
      grad[b] -= 2 * g;
      grad[c] += g;
    };
    for (int y = 0; y < height; ++y)
      for (int x = 0; x < width; ++x) {
        const size_t b = size_t(y) * W + size_t(x);
        if (x >= 1 && x + 1 < width) run(b - 1, b, b + 1);
        if (y >= 1 && y + 1 < height) run(b - W, b, b + W);
      }
  }
  double total = 0;
  for (double v : row_sum) total += v;
  return total * double(depth_scale) / double(runs);
}

#define SP_INSTANTIATE(T)                                                                  \
  template double opacity_entropy<T>(const T*, size_t, T*, T);                             \
  template double scale_penalty<T>(const T*, size_t, T, T*, T);                            \
  template double masked_alpha_penalty<T>(const T*, const T*, size_t, T*, T);              \
  template double depth_prior_l1<T>(const T*, const T*, const T*, size_t, T*, T*, T);     \
  template double anisotropy_penalty<T>(const T*, size_t, T, T*, T);                       \
  template double edge_aware_depth_smoothness<T>(int, int, const T*, const T*, T, T, T*, T);            \
  template double edge_aware_depth_curvature<T>(int, int, const T*, const T*, T, T, T*, T);
SP_INSTANTIATE(float)
SP_INSTANTIATE(double)
#undef SP_INSTANTIATE

size_t clamp_angular_scales(const float* means, float* log_scales, size_t n, const std::vector<glm::vec3>& centers,
                            float max_ratio) {
  if (centers.empty() || !(max_ratio > 0)) return 0;
  size_t clamped = 0;
  for (size_t i = 0; i < n; ++i) {
    const glm::vec3 p(means[3 * i], means[3 * i + 1], means[3 * i + 2]);
    float nearest2 = std::numeric_limits<float>::infinity();
    for (const glm::vec3& c : centers) {
      const glm::vec3 d = p - c;
      nearest2 = std::min(nearest2, d.x * d.x + d.y * d.y + d.z * d.z);
    }
    const float limit = std::log(max_ratio) + 0.5f * std::log(std::max(nearest2, 1e-20f));
    bool any = false;
    for (int a = 0; a < 3; ++a)
      if (log_scales[3 * i + a] > limit) {
        log_scales[3 * i + a] = limit;
        any = true;
      }
    clamped += any;
  }
  return clamped;
}

}  // namespace sp
