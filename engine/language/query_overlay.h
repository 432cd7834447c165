#pragma once
// What the viewer's query overlay shows (docs/language.md, docs/viewer.md): one query's
// relevance after LERF's post-processing — smoothed, min-max normalized and mapped by
// clip(2n − 1, 0, 1), the values `lerf_postprocess` thresholds into the mask — at the level
// LERF picks (highest smoothed relevance) or at a fixed level.
#include <string>
#include <vector>

#include "engine/language/relevance.h"

namespace sp {

struct QueryOverlay {
  int level = 0;              // the level shown (0-based)
  float score = 0;            // its highest smoothed relevance
  std::vector<float> values;  // H x W in [0, 1]; > options.threshold is the query's mask before its box filter
};
// `level` < 0: auto (LERF's choice, as `sparsplat query`); else that level.
QueryOverlay query_overlay(const RelevanceMaps& maps, int query, int level, const LerfOptions& options);

// LERF's 29-pixel pool is meant for ~1000-pixel images: the odd pool of the same relative
// size for an image whose longer side is `longer_side` (at least 1).
int scaled_lerf_pool(int longer_side, int pool_at_1000 = 29);

// Every phrase of an embedding file (load_query_embeddings' format and checks) as queries,
// in file order, the canonical phrases left out (they are loaded as `canonical`).
QueryEmbeddings load_all_query_embeddings(const std::string& npy_path, const std::string& json_path);
// The same embeddings with only query `k`.
QueryEmbeddings single_query(const QueryEmbeddings& all, int k);

}  // namespace sp
