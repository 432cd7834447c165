#include "engine/model/gaussian_model.h"

#include <algorithm>
#include <cmath>

#include "engine/core/error.h"

namespace sp {

void GaussianModel::resize(size_t n) {
  const size_t old = size();
  const size_t K = size_t(sh_coeffs()), E = size_t(extra_channels);
  means.resize(n * 3, 0.0f);
  log_scales.resize(n * 3, 0.0f);
  rotations.resize(n * 4, 0.0f);
  for (size_t i = old; i < n; ++i) rotations[i * 4] = 1.0f;
  opacities.resize(n, 0.0f);
  sh.resize(n * K * 3, 0.0f);
  extras.resize(n * E, 0.0f);
}

namespace {
template <class T>
void keep_rows(std::vector<T>& v, size_t width, const std::vector<bool>& keep) {
  size_t out = 0;
  for (size_t i = 0; i < keep.size(); ++i) {
    if (!keep[i]) continue;
    if (out != i)
      for (size_t k = 0; k < width; ++k) v[out * width + k] = v[i * width + k];
    ++out;
  }
  v.resize(out * width);
}
template <class T>
void append_row(std::vector<T>& dst, const std::vector<T>& src, size_t width, size_t row) {
  // src may be dst (a Gaussian appended to its own model): index, never hold iterators.
  const size_t at = dst.size();
  dst.resize(at + width);
  for (size_t k = 0; k < width; ++k) dst[at + k] = src[row * width + k];
}
}  // namespace

void GaussianModel::filter(const std::vector<bool>& keep) {
  if (keep.size() != size()) throw_internal("GaussianModel::filter: mask size does not match the model");
  keep_rows(means, 3, keep);
  keep_rows(log_scales, 3, keep);
  keep_rows(rotations, 4, keep);
  keep_rows(opacities, 1, keep);
  keep_rows(sh, size_t(sh_coeffs()) * 3, keep);
  keep_rows(extras, size_t(extra_channels), keep);
}

void GaussianModel::set_sh_degree(int degree) {
  if (degree < 0 || degree > 3) throw_internal("GaussianModel::set_sh_degree: degree " + std::to_string(degree) + " outside 0..3");
  const size_t n = size(), from = size_t(sh_coeffs()), to = size_t(sh_coeff_count(degree));
  std::vector<float> out(n * to * 3, 0.0f);
  const size_t keep = std::min(from, to) * 3;
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < keep; ++j) out[i * to * 3 + j] = sh[i * from * 3 + j];
  sh = std::move(out);
  sh_degree = degree;
}

int GaussianModel::used_sh_degree() const {
  const size_t K = size_t(sh_coeffs());
  int used = 0;
  for (size_t i = 0; i < size(); ++i)
    for (size_t k = size_t(sh_coeff_count(used)); k < K; ++k)  // only coefficients above the degree found so far
      if (sh[(i * K + k) * 3] != 0.0f || sh[(i * K + k) * 3 + 1] != 0.0f || sh[(i * K + k) * 3 + 2] != 0.0f)
        used = int(std::sqrt(double(k)));  // coefficient k belongs to degree floor(sqrt(k))
  return used;
}

void GaussianModel::append_from(const GaussianModel& from, size_t src) {
  append_row(means, from.means, 3, src);
  append_row(log_scales, from.log_scales, 3, src);
  append_row(rotations, from.rotations, 4, src);
  append_row(opacities, from.opacities, 1, src);
  append_row(sh, from.sh, size_t(sh_coeffs()) * 3, src);
  append_row(extras, from.extras, size_t(extra_channels), src);
}

void GaussianModel::validate(const std::string& where) const {
  const size_t n = size();
  if (sh_degree < 0 || sh_degree > 3) throw_bad_input(where, "SH degree " + std::to_string(sh_degree) + " outside 0..3");
  auto check = [&](const std::vector<float>& v, size_t width, const char* name) {
    if (v.size() != n * width)
      throw_bad_input(where, std::string(name) + " has " + std::to_string(v.size()) + " values, expected " +
                                 std::to_string(n * width));
    for (size_t i = 0; i < v.size(); ++i)
      if (!std::isfinite(v[i]))
        throw_bad_input(where, std::string(name) + " of Gaussian " + std::to_string(i / (width ? width : 1)) +
                                   " is not finite");
  };
  check(means, 3, "position");
  check(log_scales, 3, "scale");
  check(rotations, 4, "rotation");
  check(opacities, 1, "opacity");
  check(sh, size_t(sh_coeffs()) * 3, "SH coefficients");
  check(extras, size_t(extra_channels), "extra channels");
}

}  // namespace sp
