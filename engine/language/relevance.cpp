#include "engine/language/relevance.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "engine/core/error.h"
#include "engine/core/parallel.h"
#include "engine/io/npy.h"

namespace sp {

QueryEmbeddings load_query_embeddings(const std::string& npy_path, const std::string& json_path_in,
                                      const std::vector<std::string>& wanted) {
  std::string json_path = json_path_in;
  if (json_path.empty()) json_path = std::filesystem::path(npy_path).replace_extension(".json").string();
  const NpyArray a = read_npy(npy_path);
  if (a.ndim() != 2 || a.shape[1] == 0) throw_bad_input(npy_path, "expected a [phrases, D] embedding array");
  std::ifstream f(json_path);
  if (!f) throw_bad_input(json_path, "phrase list not found (a JSON list of the .npy's row phrases)");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(f);
  } catch (const std::exception& e) {
    throw_bad_input(json_path, std::string("not valid JSON: ") + e.what());
  }
  if (!j.is_array() || j.size() != a.shape[0])
    throw_bad_input(json_path, "expected a JSON list of " + std::to_string(a.shape[0]) + " phrases (one per .npy row)");
  std::vector<std::string> names;
  for (const auto& v : j) {
    if (!v.is_string()) throw_bad_input(json_path, "every entry must be a phrase string");
    names.push_back(v.get<std::string>());
  }
  QueryEmbeddings q;
  q.dims = int(a.shape[1]);
  const size_t D = a.shape[1];
  auto take = [&](const std::string& phrase, std::vector<float>& dst) {
    const auto it = std::find(names.begin(), names.end(), phrase);
    if (it == names.end()) throw_bad_input(json_path, "no embedding for phrase '" + phrase + "'");
    const size_t r = size_t(it - names.begin());
    double n2 = 0;
    for (size_t d = 0; d < D; ++d) n2 += a.data[r * D + d] * a.data[r * D + d];
    if (!(n2 > 0) || !std::isfinite(n2)) throw_bad_input(npy_path, "embedding of '" + phrase + "' is zero or not finite");
    for (size_t d = 0; d < D; ++d) dst.push_back(float(a.data[r * D + d] / std::sqrt(n2)));
  };
  for (const auto& w : wanted) {
    take(w, q.queries);
    q.phrases.push_back(w);
  }
  for (const auto& c : canonical_phrases()) take(c, q.canonical);
  return q;
}

CodeProjection relevance_projection(const LanguageField& f, const QueryEmbeddings& q) {
  if (q.dims != f.dims)
    throw_bad_input("text embeddings", "embeddings have " + std::to_string(q.dims) + " dims, the language field " +
                                           std::to_string(f.dims));
  const int L = f.codes, D = f.dims, Q = int(q.phrases.size()), P = Q + 4;
  CodeProjection p;
  p.count = P;
  p.vectors.resize(size_t(f.levels) * P * L);
  p.gram.resize(size_t(f.levels) * L * L);
  for (int l = 0; l < f.levels; ++l) {
    const float* C = f.level_dictionary(l);
    for (int i = 0; i < P; ++i) {
      const float* v = i < Q ? q.queries.data() + size_t(i) * D : q.canonical.data() + size_t(i - Q) * D;
      for (int c = 0; c < L; ++c) {
        double s = 0;
        for (int d = 0; d < D; ++d) s += double(C[size_t(c) * D + d]) * v[d];
        p.vectors[(size_t(l) * P + i) * L + c] = float(s);
      }
    }
    for (int a = 0; a < L; ++a)
      for (int b = 0; b < L; ++b) {
        double s = 0;
        for (int d = 0; d < D; ++d) s += double(C[size_t(a) * D + d]) * C[size_t(b) * D + d];
        p.gram[(size_t(l) * L + a) * L + b] = float(s);
      }
  }
  return p;
}

namespace {

// LangSplat's score from φ·q and the four φ·c_i.
inline float score(float dq, const float* dc) {
  float r = 1.0f;
  for (int i = 0; i < 4; ++i) r = std::min(r, 1.0f / (1.0f + std::exp(10.0f * (dc[i] - dq))));
  return r;
}

// Shared by the projected and code-image paths: dots[P] and |F|² of one pixel -> Q scores.
inline void scores_of(const float* dots, float n2, int Q, float* out, size_t stride) {
  const float inv = n2 > 1e-24f ? 1.0f / std::sqrt(n2) : 0.0f;  // no feature: φ = 0
  float dc[4];
  for (int i = 0; i < 4; ++i) dc[i] = dots[Q + i] * inv;
  for (int k = 0; k < Q; ++k) out[size_t(k) * stride] = score(dots[k] * inv, dc);
}

}  // namespace

RelevanceMaps relevance_from_projections(const std::vector<float>& proj, int width, int height,
                                         const LanguageField& f, const QueryEmbeddings& q) {
  RelevanceMaps m;
  m.width = width;
  m.height = height;
  m.levels = f.levels;
  m.queries = int(q.phrases.size());
  const int Q = m.queries, P = Q + 4;
  const size_t plane = size_t(width) * height;
  m.values.resize(size_t(f.levels) * Q * plane);
  for (int l = 0; l < f.levels; ++l) {
    const float* src = proj.data() + size_t(l) * (P + 1) * plane;
#pragma omp parallel for schedule(static) num_threads(thread_count())
    for (long long px = 0; px < (long long)plane; ++px) {
      float dots[64 + 4];
      std::vector<float> big;
      float* d = dots;
      if (P > 68) {
        big.resize(static_cast<size_t>(P));
        d = big.data();
      }
      for (int i = 0; i < P; ++i) d[i] = src[size_t(i) * plane + size_t(px)];
      scores_of(d, src[size_t(P) * plane + size_t(px)], Q, m.values.data() + size_t(l) * Q * plane + size_t(px), plane);
    }
  }
  return m;
}

RelevanceMaps relevance_from_codes(const Image& codes, const LanguageField& f, const QueryEmbeddings& q) {
  const CodeProjection p = relevance_projection(f, q);
  const int L = f.codes, P = p.count;
  const size_t plane = codes.pixel_count();
  std::vector<float> proj(size_t(f.levels) * (P + 1) * plane);
  const std::vector<float> vt = transposed_projection_vectors(p, f.levels, L);
  for (int l = 0; l < f.levels; ++l)
#pragma omp parallel num_threads(thread_count())
  {
    std::vector<float> scratch(static_cast<size_t>(L)), dots(static_cast<size_t>(P));
#pragma omp for schedule(static)
    for (long long px = 0; px < (long long)plane; ++px) {
      const float* w = codes.pixels.data() + size_t(px) * codes.channels + size_t(l) * L;
      float* o = proj.data() + size_t(l) * (P + 1) * plane + size_t(px);
      float n2 = 0;
      project_code(w, L, P, p.gram.data() + size_t(l) * L * L, vt.data() + size_t(l) * L * P, dots.data(), &n2,
                   scratch.data());
      for (int i = 0; i < P; ++i) o[size_t(i) * plane] = dots[size_t(i)];
      o[size_t(P) * plane] = n2;
    }
  }
  return relevance_from_projections(proj, codes.width, codes.height, f, q);
}

RelevanceMaps relevance_decoded(const Image& codes, const LanguageField& f, const QueryEmbeddings& q) {
  RelevanceMaps m;
  m.width = codes.width;
  m.height = codes.height;
  m.levels = f.levels;
  m.queries = int(q.phrases.size());
  const int L = f.codes, D = f.dims, Q = m.queries;
  const size_t plane = codes.pixel_count();
  m.values.resize(size_t(f.levels) * Q * plane);
  for (int l = 0; l < f.levels; ++l) {
    const float* C = f.level_dictionary(l);
#pragma omp parallel for schedule(static) num_threads(thread_count())
    for (long long px = 0; px < (long long)plane; ++px) {
      std::vector<double> F(size_t(D), 0.0);
      const float* w = codes.pixels.data() + size_t(px) * codes.channels + size_t(l) * L;
      for (int c = 0; c < L; ++c)
        for (int d = 0; d < D; ++d) F[size_t(d)] += double(w[c]) * C[size_t(c) * D + d];
      double n2 = 0;
      for (double v : F) n2 += v * v;
      const double inv = n2 > 1e-24 ? 1.0 / std::sqrt(n2) : 0.0;
      auto dot = [&](const float* v) {
        double s = 0;
        for (int d = 0; d < D; ++d) s += F[size_t(d)] * v[d];
        return float(s * inv);
      };
      float dc[4];
      for (int i = 0; i < 4; ++i) dc[i] = dot(q.canonical.data() + size_t(i) * D);
      for (int k = 0; k < Q; ++k) m.values[(size_t(l) * Q + k) * plane + size_t(px)] = score(dot(q.queries.data() + size_t(k) * D), dc);
    }
  }
  return m;
}

std::vector<float> box_filter(const std::vector<float>& in, int W, int H, int k) {
  const int r = k / 2;
  auto reflect = [](int i, int n) {
    if (n == 1) return 0;
    while (i < 0 || i >= n) i = i < 0 ? -i : 2 * n - 2 - i;
    return i;
  };
  std::vector<float> tmp(in.size()), out(in.size());
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x) {
      double s = 0;
      for (int d = -r; d <= r; ++d) s += in[size_t(y) * W + reflect(x + d, W)];
      tmp[size_t(y) * W + x] = float(s / k);
    }
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x) {
      double s = 0;
      for (int d = -r; d <= r; ++d) s += tmp[size_t(reflect(y + d, H)) * W + x];
      out[size_t(y) * W + x] = float(s / k);
    }
  return out;
}

QueryResult lerf_postprocess(const RelevanceMaps& maps, int query, const LerfOptions& o) {
  const int W = maps.width, H = maps.height;
  const size_t plane = size_t(W) * H;
  QueryResult r;
  r.score = -1.0f;
  for (int l = 0; l < maps.levels; ++l) {
    std::vector<float> raw(maps.map(l, query), maps.map(l, query) + plane);
    std::vector<float> pooled = box_filter(raw, W, H, o.pool);
    for (size_t i = 0; i < plane; ++i) pooled[i] = 0.5f * (pooled[i] + raw[i]);
    const auto best = std::max_element(pooled.begin(), pooled.end());
    if (*best > r.score) {
      r.score = *best;
      r.level = l;
      r.point_x = int((best - pooled.begin()) % W);
      r.point_y = int((best - pooled.begin()) / W);
      r.smoothed = std::move(pooled);
    }
  }
  const auto [lo, hi] = std::minmax_element(r.smoothed.begin(), r.smoothed.end());
  const float mn = *lo, range = *hi - *lo;
  std::vector<float> binary(plane);
  for (size_t i = 0; i < plane; ++i) {
    const float n = (r.smoothed[i] - mn) / (range + 1e-9f);
    binary[i] = std::clamp(2.0f * n - 1.0f, 0.0f, 1.0f) > o.threshold ? 1.0f : 0.0f;
  }
  const std::vector<float> pooled = box_filter(binary, W, H, o.mask_pool);
  r.mask.resize(plane);
  for (size_t i = 0; i < plane; ++i) r.mask[i] = pooled[i] > 0.5f ? 1 : 0;
  return r;
}

}  // namespace sp
