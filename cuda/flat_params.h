#pragma once
// One flat float buffer for all of a model's arrays, as the GPU-resident trainer keeps its
// parameters, gradients and both Adam moments: segments means | log_scales | rotations |
// opacities | sh | extras, each in GaussianModel's own layout. One buffer lets the fused Adam
// kernel update everything in one pass. Plain C++ (no CUDA): the index math runs on the CPU
// in tests/cuda/test_flat_params.cpp, and the same inline function runs in the kernel.
#include <cstddef>
#include <vector>

#include "engine/render/project.h"  // SP_HD
#include "engine/model/gaussian_model.h"

namespace sp {

enum FlatSegment : int { kSegMeans = 0, kSegLogScales, kSegRotations, kSegOpacities, kSegSh, kSegExtras, kSegCount };

struct FlatLayout {
  size_t count = 0;  // Gaussians
  int sh_coeffs = 1;
  int extra_channels = 0;
  size_t offset[kSegCount + 1] = {};  // offset[s] = first element of segment s; offset[kSegCount] = total

  static FlatLayout of(size_t n, int sh_coeffs, int extra_channels) {
    FlatLayout l;
    l.count = n;
    l.sh_coeffs = sh_coeffs;
    l.extra_channels = extra_channels;
    const size_t width[kSegCount] = {3, 3, 4, 1, size_t(sh_coeffs) * 3, size_t(extra_channels)};
    l.offset[0] = 0;
    for (int s = 0; s < kSegCount; ++s) l.offset[s + 1] = l.offset[s] + n * width[s];
    return l;
  }
  SP_HD size_t total() const { return offset[kSegCount]; }
};

// Adam's learning-rate group of flat element i: 0 means, 1 log_scales, 2 rotations,
// 3 opacities, 4 SH DC (the first 3 floats of each Gaussian's SH row), 5 SH rest, 6 extras.
// Matches engine/train/adam.cpp's param groups.
constexpr int kAdamGroups = 7;
SP_HD inline int flat_adam_group(const FlatLayout& l, size_t i) {
  if (i < l.offset[kSegLogScales]) return 0;
  if (i < l.offset[kSegRotations]) return 1;
  if (i < l.offset[kSegOpacities]) return 2;
  if (i < l.offset[kSegSh]) return 3;
  if (i < l.offset[kSegExtras]) {
    const size_t row = size_t(l.sh_coeffs) * 3;
    return (i - l.offset[kSegSh]) % row < 3 ? 4 : 5;
  }
  return 6;
}

// Model <-> flat buffer (host side; the trainer uploads / downloads the result).
inline std::vector<float> flatten(const GaussianModel& m) {
  const FlatLayout l = FlatLayout::of(m.size(), m.sh_coeffs(), m.extra_channels);
  std::vector<float> out(l.total());
  const std::vector<float>* src[kSegCount] = {&m.means, &m.log_scales, &m.rotations, &m.opacities, &m.sh, &m.extras};
  for (int s = 0; s < kSegCount; ++s)
    for (size_t k = 0; k < src[s]->size() && l.offset[s] + k < l.offset[s + 1]; ++k) out[l.offset[s] + k] = (*src[s])[k];
  return out;
}

// Fills every array of `m` (whose sh_degree / extra_channels are already set) from `flat`.
inline void unflatten(const std::vector<float>& flat, size_t n, GaussianModel& m) {
  const FlatLayout l = FlatLayout::of(n, m.sh_coeffs(), m.extra_channels);
  std::vector<float>* dst[kSegCount] = {&m.means, &m.log_scales, &m.rotations, &m.opacities, &m.sh, &m.extras};
  for (int s = 0; s < kSegCount; ++s) {
    const size_t b = l.offset[s], e = l.offset[s + 1];
    dst[s]->assign(flat.begin() + std::ptrdiff_t(b), flat.begin() + std::ptrdiff_t(e));
  }
}

}  // namespace sp
