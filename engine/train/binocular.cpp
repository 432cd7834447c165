#include "engine/train/binocular.h"

#include <cmath>

namespace sp {

template <class T>
double binocular_consistency(int W, int H, const T* shifted, const T* depth, const T* alpha, const T* photo,
                             T fx_shift, T min_alpha, T* grad_shifted, T* grad_depth, T* grad_alpha, T weight) {
  // Sample positions first: the count of valid pixels normalizes the mean.
  size_t valid = 0;
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x) {
      const size_t i = size_t(y) * size_t(W) + size_t(x);
      if (!(alpha[i] >= min_alpha) || !(depth[i] > T(0))) continue;
      const T z = depth[i] / alpha[i];
      const T u = T(x) - fx_shift / z;  // pixel-centre coordinates: sample index space
      if (u >= T(0) && u <= T(W - 1)) ++valid;
    }
  if (valid == 0) return 0;
  const T k = weight / T(3 * valid);
  double sum = 0;
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x) {
      const size_t i = size_t(y) * size_t(W) + size_t(x);
      if (!(alpha[i] >= min_alpha) || !(depth[i] > T(0))) continue;
      const T z = depth[i] / alpha[i];
      const T u = T(x) - fx_shift / z;
      if (!(u >= T(0) && u <= T(W - 1))) continue;
      int x0 = int(u);
      if (x0 >= W - 1) x0 = W - 2;  // u = W - 1 falls on the last segment
      if (x0 < 0) x0 = 0;
      const int x1 = W > 1 ? x0 + 1 : 0;
      const T f = u - T(x0);
      const size_t a = (size_t(y) * size_t(W) + size_t(x0)) * 3, b = (size_t(y) * size_t(W) + size_t(x1)) * 3;
      T dl_du = 0;  // dL/du' summed over channels
      for (int c = 0; c < 3; ++c) {
        const T s0 = shifted[a + size_t(c)], s1 = shifted[b + size_t(c)];
        const T warped = (T(1) - f) * s0 + f * s1;
        const T r = warped - photo[i * 3 + size_t(c)];
        sum += double(std::abs(r));
        const T g = r > T(0) ? k : r < T(0) ? -k : T(0);
        if (grad_shifted) {
          grad_shifted[a + size_t(c)] += g * (T(1) - f);
          grad_shifted[b + size_t(c)] += g * f;
        }
        dl_du += g * (s1 - s0);
      }
      // u' = x - fx_shift * alpha / depth: du'/d depth = fx_shift alpha / depth², du'/d alpha = -fx_shift / depth.
      if (grad_depth) grad_depth[i] += dl_du * fx_shift * alpha[i] / (depth[i] * depth[i]);
      if (grad_alpha) grad_alpha[i] -= dl_du * fx_shift / depth[i];
    }
  return sum / double(3 * valid);
}

template double binocular_consistency<float>(int, int, const float*, const float*, const float*, const float*, float,
                                             float, float*, float*, float*, float);
template double binocular_consistency<double>(int, int, const double*, const double*, const double*, const double*,
                                              double, double, double*, double*, double*, double);

}  // namespace sp
