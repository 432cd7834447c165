#pragma once
// The language field's training loss for one level of one view (docs/language.md):
//   loss = mean over pixels with a mask of 1 - cos(F(p), g(p)),   F(p) = Cᵀ w(p)
// with w(p) the blended L-vector of codes, C the L x D dictionary and g the pixel's segment
// feature. Computed without decoding F: with h_r = C ĝ_r per segment and Γ = C Cᵀ,
// cos = w·h_r / sqrt(wᵀ Γ w), so a pixel costs O(L²) instead of O(L·D), and
//   dL/dw = -(1/M) (h_r/|F| - (w·h_r) Γw/|F|³)
//   dL/dC = Σ_r a_r ĝ_rᵀ + B C,  a_r = -(1/M) Σ_{p in r} w/|F|,  B = (1/M) Σ_p (w·h_r)/|F|³ w wᵀ.
// Pixels whose |F| is (numerically) zero count in M with cos = 0 and pass no gradient.
#include <cstddef>

namespace sp {

template <class T>
struct LanguageLossInput {
  const T* codes = nullptr;  // pixel p's w at codes[p * stride .. + L)
  size_t stride = 0;
  const int* segments = nullptr;  // per pixel, row of `features` or -1
  size_t pixels = 0;
  const T* dictionary = nullptr;  // L x D
  const float* features = nullptr;  // R x D unit rows
  size_t rows = 0;
  int codes_count = 0, dims = 0;    // L, D
};

// Returns the loss (0 when no pixel has a mask). grad_codes (same layout as codes, only the
// L entries of each pixel written; others untouched) and grad_dictionary (L x D, overwritten)
// may be null.
template <class T>
T language_loss(const LanguageLossInput<T>& in, T* grad_codes, T* grad_dictionary);

}  // namespace sp
