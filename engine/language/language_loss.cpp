#include "engine/language/language_loss.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/core/parallel.h"

namespace sp {

template <class T>
T language_loss(const LanguageLossInput<T>& in, T* grad_codes, T* grad_dictionary) {
  const int L = in.codes_count, D = in.dims;
  const size_t R = in.rows, P = in.pixels;
  // Small problems (tests, tiny images) stay on one thread: a parallel region costs more.
  const bool parallel = P * size_t(L) * size_t(L) + R * size_t(L) * size_t(D) > (size_t(1) << 18);
  // h_r = C ĝ_r and Γ = C Cᵀ.
  std::vector<T> h(R * L), gram(size_t(L) * L);
#pragma omp parallel for schedule(static) num_threads(thread_count()) if (parallel)
  for (long long r = 0; r < (long long)R; ++r)
    for (int l = 0; l < L; ++l) {
      T s = 0;
      for (int d = 0; d < D; ++d) s += in.dictionary[size_t(l) * D + d] * T(in.features[size_t(r) * D + d]);
      h[size_t(r) * L + l] = s;
    }
  for (int a = 0; a < L; ++a)
    for (int b = a; b < L; ++b) {
      T s = 0;
      for (int d = 0; d < D; ++d) s += in.dictionary[size_t(a) * D + d] * in.dictionary[size_t(b) * D + d];
      gram[size_t(a) * L + b] = gram[size_t(b) * L + a] = s;
    }
  size_t M = 0;
  for (size_t p = 0; p < P; ++p) M += in.segments[p] >= 0 ? 1 : 0;
  if (M == 0) {
    if (grad_dictionary) std::fill(grad_dictionary, grad_dictionary + size_t(L) * D, T(0));
    if (grad_codes)
      for (size_t p = 0; p < P; ++p) std::fill(grad_codes + p * in.stride, grad_codes + p * in.stride + L, T(0));
    return T(0);
  }
  const T inv_m = T(1) / T(M);
  // Fixed chunks reduced in order: the same result for any thread count.
  constexpr int kChunks = 64;
  const bool want_dict = grad_dictionary != nullptr;
  std::vector<T> chunk_loss(kChunks, T(0));
  std::vector<T> chunk_a(want_dict ? size_t(kChunks) * R * L : 0), chunk_b(want_dict ? size_t(kChunks) * L * L : 0);
#pragma omp parallel for schedule(dynamic, 1) num_threads(thread_count()) if (parallel)
  for (int c = 0; c < kChunks; ++c) {
    const size_t p0 = P * size_t(c) / kChunks, p1 = P * size_t(c + 1) / kChunks;
    std::vector<T> gw(static_cast<size_t>(L));
    T* a = want_dict ? chunk_a.data() + size_t(c) * R * L : nullptr;
    T* b = want_dict ? chunk_b.data() + size_t(c) * L * L : nullptr;
    T loss = 0;
    for (size_t p = p0; p < p1; ++p) {
      const int r = in.segments[p];
      T* gc = grad_codes ? grad_codes + p * in.stride : nullptr;
      if (r < 0) {
        if (gc) std::fill(gc, gc + L, T(0));
        continue;
      }
      const T* w = in.codes + p * in.stride;
      const T* hr = h.data() + size_t(r) * L;
      T n2 = 0, s = 0;
      for (int i = 0; i < L; ++i) {
        T g = 0;
        for (int j = 0; j < L; ++j) g += gram[size_t(i) * L + j] * w[j];
        gw[size_t(i)] = g;
        n2 += w[i] * g;
        s += w[i] * hr[i];
      }
      if (!(n2 > T(1e-24))) {
        loss += T(1);
        if (gc) std::fill(gc, gc + L, T(0));
        continue;
      }
      const T n = std::sqrt(n2), inv_n = T(1) / n, cosv = s * inv_n, inv_n3 = inv_n * inv_n * inv_n;
      loss += T(1) - cosv;
      if (gc)
        for (int i = 0; i < L; ++i) gc[i] = -inv_m * (hr[i] * inv_n - s * gw[size_t(i)] * inv_n3);
      if (a) {
        for (int i = 0; i < L; ++i) a[size_t(r) * L + i] -= inv_m * inv_n * w[i];
        const T k = inv_m * s * inv_n3;
        for (int i = 0; i < L; ++i)
          for (int j = 0; j < L; ++j) b[size_t(i) * L + j] += k * w[i] * w[j];
      }
    }
    chunk_loss[size_t(c)] = loss;
  }
  T loss = 0;
  for (T v : chunk_loss) loss += v;
  if (want_dict) {
    std::vector<T> a(R * L, T(0)), b(size_t(L) * L, T(0));
    for (int c = 0; c < kChunks; ++c) {
      for (size_t i = 0; i < a.size(); ++i) a[i] += chunk_a[size_t(c) * R * L + i];
      for (size_t i = 0; i < b.size(); ++i) b[i] += chunk_b[size_t(c) * L * L + i];
    }
#pragma omp parallel for schedule(static) num_threads(thread_count()) if (parallel)
    for (int l = 0; l < L; ++l) {
      T* g = grad_dictionary + size_t(l) * D;
      std::fill(g, g + D, T(0));
      for (size_t r = 0; r < R; ++r) {
        const T ar = a[r * L + size_t(l)];
        if (ar == T(0)) continue;
        for (int d = 0; d < D; ++d) g[d] += ar * T(in.features[r * D + d]);
      }
      for (int j = 0; j < L; ++j) {
        const T blj = b[size_t(l) * L + j];
        if (blj == T(0)) continue;
        for (int d = 0; d < D; ++d) g[d] += blj * in.dictionary[size_t(j) * D + d];
      }
    }
  }
  return loss * inv_m;
}

template float language_loss<float>(const LanguageLossInput<float>&, float*, float*);
template double language_loss<double>(const LanguageLossInput<double>&, double*, double*);

}  // namespace sp
