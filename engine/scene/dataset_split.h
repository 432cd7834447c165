#pragma once
// Train/test splits of the sparse-view protocols (RegNeRF, DNGaussian, FSGS, CoR-GS) and
// the matching restriction of SfM points to what the train views saw.
#include <string>
#include <vector>

#include "engine/scene/dataset.h"

namespace sp {

struct SpareSplit;  // engine/io/spare.h

struct Split {
  std::vector<int> train, test;  // view indices, ascending (spare_file_split: the file's order)
  std::string protocol;          // the rule applied, in words
};

// "[1, 10, 19]": how splits are written into protocol descriptions.
std::string list_text(const std::vector<int>& ids);

// round(linspace(0, n - 1, count)) as NumPy computes it (round half to even), as ints.
std::vector<int> linspace_indices(int n, int count);

// LLFF / Mip-NeRF rule over views sorted by name: index % every == 0 is a test view; the N
// train views are round(linspace(0, m - 1, N)) over the m others; N = 0 takes all others.
// With a single view there is no test view. BadInput (naming `where`) if N exceeds the m others.
Split holdout_split(int n_views, int train_views, const std::string& where = {}, int every = 8);

// Blender (NeRF-synthetic): views are the n_train frames of transforms_train followed by
// the n_test frames of transforms_test. Train = the first N of [2, 16, 26, 55, 73, 76, 86, 93]
// (N <= 8; N = 0: all train frames; N > 8: round(linspace) over the train frames);
// test = all test frames.
Split blender_split(int n_train_frames, int n_test_frames, int train_views, const std::string& where = {});
extern const std::vector<int> kBlenderTrainIds;

// DTU sparse-view protocol (RegNeRF, DNGaussian, FSGS, CoR-GS), view i = DTU view i:
// train = the first N of kDtuTrainIds (N <= 9), test = the 25 views of 0..48 in neither
// kDtuTrainIds nor kDtuExcludedIds; N = 0: train = every non-test view (of all n_views).
// Needs n_views >= 49; BadInput (naming `where`) otherwise or for N > 9. Lists ascending;
// the protocol text names the train views in the protocol's order.
Split dtu_protocol_split(int n_views, int train_views, const std::string& where = {});
extern const std::vector<int> kDtuTrainIds;
extern const std::vector<int> kDtuExcludedIds;

// A SpaRe split file's entry for `scene` of `file`: train = the first N input views in the
// file's order (N = train_views), or every non-test view when N = 0; test = its test views.
// Lists in the file's order. BadInput (naming `file`) for N above the input views or ids
// out of range.
Split spare_file_split(const SpareSplit& entry, int n_views, int train_views, const std::string& file,
                       const std::string& scene);

// Explicit ids replace the protocol: train = train_ids; test = test_ids, or when none are
// given, the protocol's test views. BadInput (naming `where`) for ids out of range,
// duplicates, overlap between train and test, or an empty train list.
Split explicit_split(int n_views, const std::vector<int>& train_ids, const std::vector<int>& test_ids,
                     const Split& protocol, const std::string& where);

// The points observed by at least `min_views` of the `train` views (tracks must be view
// indices; has_tracks must be set). Tracks of the kept points are kept.
PointCloud keep_points_seen_by(const PointCloud& points, const std::vector<int>& train, int n_views, int min_views = 2);

}  // namespace sp
