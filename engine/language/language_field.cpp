#include "engine/language/language_field.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <numeric>
#include <type_traits>

#include "engine/core/error.h"
#include "engine/core/rng.h"
#include "engine/io/npy.h"

namespace sp {

void LanguageField::validate(const std::string& where) const {
  if (levels < 1 || codes < 1 || dims < 1 || codes > 65535)
    throw_bad_input(where, "language field needs levels, codes (<= 65535) and dims >= 1");
  if (top_k < 1 || top_k > codes || top_k > 256)
    throw_bad_input(where, "top-K " + std::to_string(top_k) + " outside [1, " + std::to_string(codes) + "]");
  if (dictionary.size() != size_t(levels) * codes * dims)
    throw_bad_input(where, "dictionary has " + std::to_string(dictionary.size()) + " values, expected levels x L x D = " +
                               std::to_string(size_t(levels) * codes * dims));
  if (logits.size() % (size_t(levels) * codes) != 0)
    throw_bad_input(where, "logit count is not a multiple of levels x L");
  for (float v : dictionary)
    if (!std::isfinite(v)) throw_bad_input(where, "dictionary holds a non-finite value");
  for (float v : logits)
    if (!std::isfinite(v)) throw_bad_input(where, "logits hold a non-finite value");
}

void sparse_code(const float* z, int L, int K, uint16_t* index, float* weight) {
  // Partial selection of the K largest (ties: lower index first), then a softmax over them.
  int best[256];
  int n = 0;
  const int k = std::min(K, 256);
  for (int j = 0; j < L; ++j) {
    int pos = n < k ? n : k;
    if (pos == k && !(z[j] > z[best[k - 1]])) continue;
    while (pos > 0 && z[j] > z[best[pos - 1]]) {
      if (pos < k) best[pos] = best[pos - 1];
      --pos;
    }
    best[pos] = j;
    if (n < k) ++n;
  }
  const float top = z[best[0]];
  float sum = 0;
  for (int i = 0; i < k; ++i) {
    weight[i] = std::exp(z[best[i]] - top);
    sum += weight[i];
  }
  for (int i = 0; i < k; ++i) {
    weight[i] /= sum;
    index[i] = uint16_t(best[i]);
  }
}

SparseCodes sparse_codes(const LanguageField& f) {
  SparseCodes c;
  c.levels = f.levels;
  c.codes = f.codes;
  c.top_k = f.top_k;
  const size_t n = f.size(), groups = n * size_t(f.levels);
  c.index.resize(groups * f.top_k);
  c.weight.resize(groups * f.top_k);
#pragma omp parallel for schedule(static)
  for (long long g = 0; g < (long long)groups; ++g)
    sparse_code(f.logits.data() + size_t(g) * f.codes, f.codes, f.top_k, c.index.data() + size_t(g) * f.top_k,
                c.weight.data() + size_t(g) * f.top_k);
  return c;
}

std::vector<float> dense_codes(const LanguageField& f) {
  const SparseCodes c = sparse_codes(f);
  std::vector<float> out(f.logits.size(), 0.0f);
  const size_t groups = f.size() * size_t(f.levels);
  for (size_t g = 0; g < groups; ++g)
    for (int k = 0; k < c.top_k; ++k) out[g * f.codes + c.index[g * c.top_k + k]] = c.weight[g * c.top_k + k];
  return out;
}

template <class T>
void sparse_code_backward(const T* z, int L, int K, const T* grad_dense, T* grad_logits) {
  // Stack buffers (K <= 256, validated): this runs once per Gaussian and level per step.
  uint16_t index[256];
  float wf[256];
  T w[256];
  // The selection is made in float exactly as the forward pass makes it.
  if constexpr (std::is_same_v<T, float>) {
    sparse_code(z, L, K, index, wf);
  } else {
    std::vector<float> zf(z, z + L);
    sparse_code(zf.data(), L, K, index, wf);
  }
  // Weights recomputed in T: w = softmax over the selected logits.
  T top = z[index[0]], sum = 0;
  for (int i = 0; i < K; ++i) sum += (w[i] = std::exp(z[index[i]] - top));
  T dot = 0;
  for (int i = 0; i < K; ++i) {
    w[i] /= sum;
    dot += w[i] * grad_dense[index[i]];
  }
  std::fill(grad_logits, grad_logits + L, T(0));
  for (int i = 0; i < K; ++i) grad_logits[index[i]] = w[i] * (grad_dense[index[i]] - dot);
}
template void sparse_code_backward<float>(const float*, int, int, const float*, float*);
template void sparse_code_backward<double>(const double*, int, int, const double*, double*);

std::vector<float> kmeans_unit_centres(const float* pts, size_t count, int D, int k, uint64_t seed, int iterations) {
  if (count == 0) throw_internal("kmeans_unit_centres: no points");
  Rng rng(seed);
  std::vector<float> centres(size_t(k) * D);
  auto dist2 = [&](const float* a, const float* b) {
    float s = 0;
    for (int d = 0; d < D; ++d) s += (a[d] - b[d]) * (a[d] - b[d]);
    return s;
  };
  // k-means++ seeding.
  std::vector<float> nearest(count, std::numeric_limits<float>::infinity());
  size_t first = size_t(rng.index(int(std::min<size_t>(count, size_t(std::numeric_limits<int>::max())))));
  std::copy(pts + first * D, pts + (first + 1) * D, centres.begin());
  for (int c = 1; c < k; ++c) {
    double total = 0;
    const float* prev = centres.data() + size_t(c - 1) * D;
    for (size_t i = 0; i < count; ++i) {
      nearest[i] = std::min(nearest[i], dist2(pts + i * D, prev));
      total += nearest[i];
    }
    float* dst = centres.data() + size_t(c) * D;
    if (total <= 1e-12) {  // every point already a centre: jittered copy of a random point
      const size_t src = size_t(rng.index(int(count)));
      for (int d = 0; d < D; ++d) dst[d] = pts[src * D + d] + rng.normal(0.0f, 1e-3f);
      continue;
    }
    double r = rng.uniform(0.0f, 1.0f) * total;
    size_t pick = count - 1;
    for (size_t i = 0; i < count; ++i) {
      r -= nearest[i];
      if (r <= 0) {
        pick = i;
        break;
      }
    }
    std::copy(pts + pick * D, pts + (pick + 1) * D, dst);
  }
  std::vector<int> label(count, 0);
  std::vector<double> sums(size_t(k) * D);
  std::vector<size_t> members(static_cast<size_t>(k));
  for (int it = 0; it < iterations; ++it) {
#pragma omp parallel for schedule(static)
    for (long long i = 0; i < (long long)count; ++i) {
      float best = std::numeric_limits<float>::infinity();
      for (int c = 0; c < k; ++c) {
        const float d = dist2(pts + size_t(i) * D, centres.data() + size_t(c) * D);
        if (d < best) best = d, label[size_t(i)] = c;
      }
    }
    std::fill(sums.begin(), sums.end(), 0.0);
    std::fill(members.begin(), members.end(), 0);
    for (size_t i = 0; i < count; ++i) {
      ++members[size_t(label[i])];
      for (int d = 0; d < D; ++d) sums[size_t(label[i]) * D + d] += pts[i * D + d];
    }
    for (int c = 0; c < k; ++c)
      if (members[size_t(c)] > 0)
        for (int d = 0; d < D; ++d) centres[size_t(c) * D + d] = float(sums[size_t(c) * D + d] / double(members[size_t(c)]));
  }
  for (int c = 0; c < k; ++c) {
    float* v = centres.data() + size_t(c) * D;
    float n = std::sqrt(std::inner_product(v, v + D, v, 0.0f));
    if (n < 1e-12f) {
      v[0] = 1.0f;
      n = 1.0f;
    }
    for (int d = 0; d < D; ++d) v[d] /= n;
  }
  return centres;
}

void store_language_field(GaussianModel& model, const LanguageField& field) {
  if (field.size() != model.size()) throw_internal("store_language_field: Gaussian count differs from the model's");
  model.extra_channels = field.levels * field.codes;
  model.extras = field.logits;
}

std::string dictionary_path_for(const std::string& ply_path) {
  std::filesystem::path p(ply_path);
  return (p.parent_path() / (p.stem().string() + ".language.npy")).string();
}

void write_dictionary(const std::string& path, const LanguageField& f) {
  write_npy(path, {size_t(f.levels), size_t(f.codes), size_t(f.dims)}, f.dictionary.data());
}

LanguageField load_language_field(const GaussianModel& model, const std::string& dictionary_path, int top_k) {
  if (!std::filesystem::exists(dictionary_path))
    throw_bad_input(dictionary_path, "language dictionary not found (train one with `sparsplat language`)");
  const NpyArray a = read_npy(dictionary_path);
  if (a.ndim() != 3) throw_bad_input(dictionary_path, "expected a [levels, L, D] array");
  LanguageField f;
  f.levels = int(a.shape[0]);
  f.codes = int(a.shape[1]);
  f.dims = int(a.shape[2]);
  f.top_k = top_k;
  f.dictionary = a.to_float();
  if (model.extra_channels != f.levels * f.codes)
    throw_bad_input(dictionary_path, "the model has " + std::to_string(model.extra_channels) +
                                         " extra channels, the dictionary needs levels x L = " +
                                         std::to_string(f.levels * f.codes));
  f.logits = model.extras;
  f.validate(dictionary_path);
  return f;
}

}  // namespace sp
