#include "engine/language/query_overlay.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "engine/core/error.h"

namespace sp {

QueryOverlay query_overlay(const RelevanceMaps& maps, int query, int level, const LerfOptions& options) {
  if (query < 0 || query >= maps.queries) throw_internal("query_overlay: query index out of range");
  if (level >= maps.levels) throw_bad_input("level", std::to_string(level + 1) + " is beyond the field's " +
                                                         std::to_string(maps.levels) + " levels");
  QueryResult r;
  if (level < 0) {
    r = lerf_postprocess(maps, query, options);
  } else {  // the same post-processing on that level alone
    RelevanceMaps one;
    one.width = maps.width;
    one.height = maps.height;
    one.levels = 1;
    one.queries = 1;
    const size_t plane = size_t(maps.width) * maps.height;
    one.values.assign(maps.map(level, query), maps.map(level, query) + plane);
    r = lerf_postprocess(one, 0, options);
    r.level = level;
  }
  QueryOverlay out;
  out.level = r.level;
  out.score = r.score;
  out.values.resize(r.smoothed.size());
  if (r.smoothed.empty()) return out;
  // The normalization lerf_postprocess applies before its threshold.
  const auto [lo, hi] = std::minmax_element(r.smoothed.begin(), r.smoothed.end());
  const float mn = *lo, range = *hi - *lo;
  for (size_t i = 0; i < r.smoothed.size(); ++i) {
    const float n = (r.smoothed[i] - mn) / (range + 1e-9f);
    out.values[i] = std::clamp(2.0f * n - 1.0f, 0.0f, 1.0f);
  }
  return out;
}

int scaled_lerf_pool(int longer_side, int pool_at_1000) {
  const int k = int(std::lround(double(pool_at_1000) * double(std::max(longer_side, 1)) / 1000.0));
  return std::max(1, k | 1);
}

QueryEmbeddings load_all_query_embeddings(const std::string& npy_path, const std::string& json_path_in) {
  const std::string json_path =
      json_path_in.empty() ? std::filesystem::path(npy_path).replace_extension(".json").string() : json_path_in;
  std::vector<std::string> phrases;
  std::ifstream f(json_path);
  if (f) {  // a bad list is reported by load_query_embeddings with the file's name
    const nlohmann::json j = nlohmann::json::parse(f, nullptr, false);
    if (j.is_array())
      for (const auto& v : j)
        if (v.is_string()) {
          const std::string p = v.get<std::string>();
          const auto& canon = canonical_phrases();
          if (std::find(canon.begin(), canon.end(), p) == canon.end() &&
              std::find(phrases.begin(), phrases.end(), p) == phrases.end())
            phrases.push_back(p);
        }
  }
  return load_query_embeddings(npy_path, json_path, phrases);
}

QueryEmbeddings single_query(const QueryEmbeddings& all, int k) {
  if (k < 0 || k >= int(all.phrases.size())) throw_internal("single_query: index out of range");
  QueryEmbeddings q;
  q.dims = all.dims;
  q.phrases = {all.phrases[size_t(k)]};
  q.queries.assign(all.queries.begin() + size_t(k) * all.dims, all.queries.begin() + size_t(k + 1) * all.dims);
  q.canonical = all.canonical;
  return q;
}

}  // namespace sp
