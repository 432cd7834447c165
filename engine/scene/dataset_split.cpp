#include "engine/scene/dataset_split.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "engine/core/error.h"
#include "engine/io/spare.h"

namespace sp {

const std::vector<int> kBlenderTrainIds = {2, 16, 26, 55, 73, 76, 86, 93};

std::string list_text(const std::vector<int>& ids) {
  std::string s = "[";
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? ", " : "") + std::to_string(ids[i]);
  return s + "]";
}

std::vector<int> linspace_indices(int n, int count) {
  std::vector<int> out;
  if (count <= 0 || n <= 0) return out;
  if (count == 1) return {0};
  for (int i = 0; i < count; ++i) {
    // NumPy's linspace: start + i * step, with the last value exactly the stop.
    const double step = double(n - 1) / double(count - 1);
    const double v = i == count - 1 ? double(n - 1) : double(i) * step;
    out.push_back(int(std::nearbyint(v)));  // default rounding mode: half to even, as np.round
  }
  return out;
}

Split holdout_split(int n_views, int train_views, const std::string& where, int every) {
  Split s;
  if (n_views <= 1) {
    for (int i = 0; i < n_views; ++i) s.train.push_back(i);
    s.protocol = "a single view: it trains, no test view";
    return s;
  }
  std::vector<int> others;
  for (int i = 0; i < n_views; ++i) (i % every == 0 ? s.test : others).push_back(i);
  const int m = int(others.size());
  if (train_views > m)
    throw_bad_input(where, "asked for " + std::to_string(train_views) + " train views but only " + std::to_string(m) +
                            " of the " + std::to_string(n_views) + " views are not test views (every " +
                            std::to_string(every) + "th view is held out)");
  if (train_views <= 0) {
    s.train = others;
  } else {
    for (int k : linspace_indices(m, train_views)) s.train.push_back(others[size_t(k)]);
  }
  s.protocol = "LLFF/Mip-NeRF holdout: views sorted by name, test = every " + std::to_string(every) +
               "th view (index % " + std::to_string(every) + " == 0: " + std::to_string(s.test.size()) + " views); train = " +
               (train_views <= 0 ? "all " + std::to_string(m) + " other views"
                                 : "round(linspace(0, " + std::to_string(m - 1) + ", " + std::to_string(train_views) +
                                       ")) of the " + std::to_string(m) + " other views = " + list_text(s.train));
  return s;
}

Split blender_split(int n_train, int n_test, int train_views, const std::string& where) {
  Split s;
  for (int i = 0; i < n_test; ++i) s.test.push_back(n_train + i);
  const std::string test_text = "test = the " + std::to_string(n_test) + " frames of transforms_test";
  if (train_views <= 0) {
    for (int i = 0; i < n_train; ++i) s.train.push_back(i);
    s.protocol = "Blender: train = all " + std::to_string(n_train) + " frames of transforms_train; " + test_text;
    return s;
  }
  if (train_views > n_train)
    throw_bad_input(where, "asked for " + std::to_string(train_views) + " train views but transforms_train has " +
                            std::to_string(n_train) + " frames");
  if (train_views <= int(kBlenderTrainIds.size()) && kBlenderTrainIds.back() < n_train) {
    s.train.assign(kBlenderTrainIds.begin(), kBlenderTrainIds.begin() + train_views);
    s.protocol = "Blender sparse-view: train = first " + std::to_string(train_views) + " of transforms_train ids " +
                 list_text(kBlenderTrainIds) + " = " + list_text(s.train) + "; " + test_text;
  } else {
    s.train = linspace_indices(n_train, train_views);
    s.protocol = "Blender: train = round(linspace(0, " + std::to_string(n_train - 1) + ", " + std::to_string(train_views) +
                 ")) of transforms_train (beyond the 8-view protocol list) = " + list_text(s.train) + "; " + test_text;
  }
  return s;
}

const std::vector<int> kDtuTrainIds = {25, 22, 28, 40, 44, 48, 0, 8, 13};
const std::vector<int> kDtuExcludedIds = {3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 36, 37, 38, 39};

Split dtu_protocol_split(int n_views, int train_views, const std::string& where) {
  if (n_views < 49)
    throw_bad_input(where, "the DTU protocol needs the 49 DTU views (0..48); the scene has " + std::to_string(n_views));
  if (train_views > int(kDtuTrainIds.size()))
    throw_bad_input(where, "the DTU protocol has " + std::to_string(kDtuTrainIds.size()) + " train views; " +
                               std::to_string(train_views) + " were asked for");
  const auto listed = [](const std::vector<int>& ids, int i) { return std::find(ids.begin(), ids.end(), i) != ids.end(); };
  Split s;
  for (int i = 0; i < 49; ++i)
    if (!listed(kDtuTrainIds, i) && !listed(kDtuExcludedIds, i)) s.test.push_back(i);
  if (train_views > 0) {
    s.train.assign(kDtuTrainIds.begin(), kDtuTrainIds.begin() + train_views);
    s.protocol = "DTU protocol: train = " + list_text(s.train) + ", test = the 25 views of 0..48 in neither list";
    std::sort(s.train.begin(), s.train.end());
  } else {
    for (int i = 0; i < n_views; ++i)
      if (!std::binary_search(s.test.begin(), s.test.end(), i)) s.train.push_back(i);
    s.protocol = "DTU protocol: test = the 25 views of 0..48 in neither list, train = all other views";
  }
  return s;
}

Split spare_file_split(const SpareSplit& entry, int n, int train_views, const std::string& file,
                       const std::string& scene) {
  Split split;
  const auto& in = entry.input_views;
  split.test = entry.test_views;
  for (int id : split.test)
    if (id < 0 || id >= n) throw_bad_input(file, "test view " + std::to_string(id) + " is out of range (0.." + std::to_string(n - 1) + ")");
  if (train_views > 0) {
    if (size_t(train_views) > in.size())
      throw_bad_input(file, "scene '" + scene + "' has " + std::to_string(in.size()) + " input views; " +
                                std::to_string(train_views) + " train views were asked for");
    split.train.assign(in.begin(), in.begin() + train_views);
    for (int id : split.train)
      if (id < 0 || id >= n) throw_bad_input(file, "input view " + std::to_string(id) + " is out of range (0.." + std::to_string(n - 1) + ")");
    split.protocol = "SpaRe split of " + file + ": train = the first " + std::to_string(train_views) +
                     " input views " + list_text(split.train) + ", test = its test views";
  } else {
    for (int i = 0; i < n; ++i)
      if (std::find(split.test.begin(), split.test.end(), i) == split.test.end()) split.train.push_back(i);
    split.protocol = "SpaRe split of " + file + ": test = its test views, train = all other views";
  }
  return split;
}

Split explicit_split(int n_views, const std::vector<int>& train_ids, const std::vector<int>& test_ids,
                     const Split& protocol, const std::string& where) {
  const auto check = [&](const std::vector<int>& ids, const char* what) {
    std::set<int> seen;
    for (int id : ids) {
      if (id < 0 || id >= n_views)
        throw_bad_input(where, std::string(what) + " id " + std::to_string(id) + " is out of range (expected 0.." +
                                   std::to_string(n_views - 1) + ")");
      if (!seen.insert(id).second) throw_bad_input(where, std::string(what) + " id " + std::to_string(id) + " is listed twice");
    }
  };
  Split s;
  s.train = train_ids.empty() ? protocol.train : train_ids;
  s.test = test_ids.empty() ? protocol.test : test_ids;
  check(s.train, "train");
  check(s.test, "test");
  if (s.train.empty()) throw_bad_input(where, "the train split is empty (expected at least one train view)");
  std::sort(s.train.begin(), s.train.end());
  std::sort(s.test.begin(), s.test.end());
  for (int id : s.train)
    if (std::binary_search(s.test.begin(), s.test.end(), id))
      throw_bad_input(where, "view " + std::to_string(id) + " is in both the train and the test split" +
                                 (test_ids.empty() ? " (it is a test view of the protocol; give test ids too)" : ""));
  s.protocol = "explicit split: train = " + list_text(s.train) + ", test = " + list_text(s.test) +
               (test_ids.empty() ? " (the protocol's test views)" : "");
  return s;
}

PointCloud keep_points_seen_by(const PointCloud& points, const std::vector<int>& train, int n_views, int min_views) {
  std::vector<char> is_train(size_t(std::max(n_views, 0)), 0);
  for (int v : train)
    if (v >= 0 && v < n_views) is_train[size_t(v)] = 1;
  PointCloud out;
  out.has_tracks = points.has_tracks;
  for (size_t i = 0; i < points.size(); ++i) {
    int seen = 0;
    for (int v : points.tracks[i]) seen += v >= 0 && v < n_views && is_train[size_t(v)];
    if (seen < min_views) continue;
    out.xyz.insert(out.xyz.end(), points.xyz.begin() + long(3 * i), points.xyz.begin() + long(3 * i + 3));
    out.rgb.insert(out.rgb.end(), points.rgb.begin() + long(3 * i), points.rgb.begin() + long(3 * i + 3));
    out.tracks.push_back(points.tracks[i]);
  }
  return out;
}

}  // namespace sp
