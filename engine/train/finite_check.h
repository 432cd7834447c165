#pragma once
// The poison check of every training step (docs/training.md "NaN rollback"): one pass over
// the gradients and one over the parameters, cheap next to a render (bench/RESULTS.md
// "Reliability" measures it).
#include <cstddef>
#include <vector>

#include "engine/model/gaussian_model.h"
#include "engine/render/rasterizer.h"

namespace sp {

// True when every value is finite.
bool all_finite(const float* values, size_t n);
inline bool all_finite(const std::vector<float>& v) { return all_finite(v.data(), v.size()); }

// The learning-rate group ("means", "scales", "rotations", "opacities", "sh", "extras") of
// the first array holding a NaN or an infinity; null when every value is finite.
const char* non_finite_group(const GaussianGradients& grads);
const char* non_finite_group(const GaussianModel& model);

}  // namespace sp
