#pragma once
// The Gaussians of a scene in the INRIA 3DGS parameterization, as a structure of arrays of
// float32 (the same layout on CPU, GPU and in checkpoints):
//   means       N x 3   world position
//   log_scales  N x 3   scale = exp(log_scale)
//   rotations   N x 4   quaternion w, x, y, z (normalized when used)
//   opacities   N       logit; opacity = sigmoid(value)
//   sh          N x K x 3, K = (sh_degree + 1)^2, coefficient-major with RGB innermost:
//               sh[(i * K + k) * 3 + c]; k = 0 is the DC term (colour = C0 * dc + 0.5)
//   extras      N x E   extra per-Gaussian channels rendered like colour (language codes...)
#include <cstddef>
#include <string>
#include <vector>

namespace sp {

constexpr float kSHC0 = 0.28209479177387814f;

inline int sh_coeff_count(int degree) { return (degree + 1) * (degree + 1); }

struct GaussianModel {
  int sh_degree = 3;       // storage degree (0..3); the trainer raises the active degree over time
  int extra_channels = 0;  // E
  std::vector<float> means, log_scales, rotations, opacities, sh, extras;

  size_t size() const { return opacities.size(); }
  int sh_coeffs() const { return sh_coeff_count(sh_degree); }
  // Grows or shrinks every array to n Gaussians (new entries are zero; rotations identity).
  void resize(size_t n);
  // Keeps the Gaussians whose keep[i] is true, in order.
  void filter(const std::vector<bool>& keep);
  // Changes the storage SH degree: keeps the first (degree + 1)^2 coefficients of each
  // Gaussian, or pads with zeros (no change to the rendered colour at the old degree).
  void set_sh_degree(int degree);
  // The lowest degree that keeps every non-zero coefficient (a model trained briefly, or
  // read from a DC-only file, may store degree 3 with all higher bands zero).
  int used_sh_degree() const;
  // Appends Gaussian `src` of `from` (same degree and extras) to this model.
  void append_from(const GaussianModel& from, size_t src);
  // Throws BadInput naming `where` if any array has the wrong size or holds NaN/Inf.
  void validate(const std::string& where) const;
};

}  // namespace sp
