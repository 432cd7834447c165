#pragma once
// Open-vocabulary relevance (LangSplat's score) and LERF's post-processing
// (docs/language.md). With φ the unit feature of a pixel, q the query and c_i the canonical
// phrases ("object", "things", "stuff", "texture"), all unit vectors:
//   relevance = min_i softmax(10·[φ·q, φ·c_i])_0 = min_i 1 / (1 + exp(10 (φ·c_i − φ·q)))
// φ = Cᵀw / |Cᵀw| is never decoded: φ·v = w·(C v) / sqrt(wᵀ (C Cᵀ) w), so a pixel needs
// 1 + 4 + queries dot products of length L and one L x L quadratic form per level.
#include <string>
#include <vector>

#include "engine/core/image.h"
#include "engine/language/language_field.h"
#include "engine/language/sparse_splat.h"

namespace sp {

inline const std::vector<std::string>& canonical_phrases() {
  static const std::vector<std::string> p = {"object", "things", "stuff", "texture"};
  return p;
}

// Query and canonical embeddings, unit length (D each).
struct QueryEmbeddings {
  int dims = 0;
  std::vector<std::string> phrases;  // the queries
  std::vector<float> queries;        // Q x D
  std::vector<float> canonical;      // 4 x D, in canonical_phrases() order
};

// Reads an embedding file pair: `npy_path` float [M, D] and a JSON list of M phrases (the
// "phrases" file; default: the .npy path with .json). Picks the rows of `wanted` and of the
// canonical phrases; BadInput naming the file for a missing phrase or a shape mismatch.
QueryEmbeddings load_query_embeddings(const std::string& npy_path, const std::string& json_path,
                                      const std::vector<std::string>& wanted);

// Relevance maps: levels x Q planes of H x W.
struct RelevanceMaps {
  int width = 0, height = 0, levels = 0, queries = 0;
  std::vector<float> values;
  const float* map(int level, int query) const {
    return values.data() + (size_t(level) * queries + query) * size_t(width) * height;
  }
};

// The per-level dot-product vectors (C q for queries, then C c_i) and C Cᵀ.
CodeProjection relevance_projection(const LanguageField& field, const QueryEmbeddings& q);
// From the splatted projections (splat_sparse_projections with relevance_projection).
RelevanceMaps relevance_from_projections(const std::vector<float>& projections, int width, int height,
                                         const LanguageField& field, const QueryEmbeddings& q);
// No-decode relevance from a code image (channels levels x L) and the decoding reference.
RelevanceMaps relevance_from_codes(const Image& codes, const LanguageField& field, const QueryEmbeddings& q);
RelevanceMaps relevance_decoded(const Image& codes, const LanguageField& field, const QueryEmbeddings& q);

// LERF/LangSplat post-processing of one query.
struct LerfOptions {
  int pool = 29;             // smoothing: 0.5 (avgpool_pool(R) + R), reflected borders
  float threshold = 0.4f;    // on clip(2·minmax(smoothed) − 1, 0, 1)
  int mask_pool = 7;         // the binary mask is box-filtered and kept > 0.5
};
struct QueryResult {
  int level = 0;             // the level with the highest smoothed relevance
  float score = 0;           // that maximum
  std::vector<float> smoothed;  // H x W of the chosen level
  std::vector<uint8_t> mask;    // H x W, 0/1
  int point_x = 0, point_y = 0; // localization: argmax of `smoothed`
};
QueryResult lerf_postprocess(const RelevanceMaps& maps, int query, const LerfOptions& options = {});

// Box filter of size k (odd) with reflect-101 borders (OpenCV's default).
std::vector<float> box_filter(const std::vector<float>& in, int width, int height, int k);

}  // namespace sp
