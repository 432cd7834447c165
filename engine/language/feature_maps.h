#pragma once
// LangSplat's preprocessed language features for one training image (docs/language.md):
//   <dir>/<stem>_f.npy  float32 (or float16) [N, D]: CLIP features of all SAM masks, the
//                       levels concatenated default -> s -> m -> l
//   <dir>/<stem>_s.npy  [P, H, W] integer-valued: per level, the global row of _f.npy whose
//                       mask covers the pixel, -1 where none does
// The language field uses the s, m, l levels (planes 1..3). A level without masks is
// absent from the file (P < 4); its later planes shift down, so planes after the first are
// taken as s, m, l in order and the levels without a plane have no target.
#include <string>
#include <vector>

#include "engine/core/camera.h"

namespace sp {

// Ground truth of one view at a render size: per level a segment id per pixel (-1: none)
// into the view's unit-length feature table.
struct LanguageTargets {
  int width = 0, height = 0, dims = 0, levels = 3;
  std::vector<float> features;              // R x D, unit length
  std::vector<std::vector<int>> segments;   // levels x (H x W), -1 = no mask
  size_t rows() const { return dims == 0 ? 0 : features.size() / size_t(dims); }
};

// The files of image `image_name` (its stem is the file name without extension) in `dir`.
std::string feature_file(const std::string& dir, const std::string& image_name);
std::string segment_file(const std::string& dir, const std::string& image_name);

// Reads both files and resamples the segment maps to width x height (nearest pixel centre).
// BadInput naming the file: missing file, wrong rank, ids outside [-1, N), non-finite or
// zero features.
LanguageTargets load_language_targets(const std::string& dir, const std::string& image_name, int width, int height);

// Writes the two files (float32 features, float32 segment maps as LangSplat does), used by
// tests and the synthetic pipeline. `planes` is P x H x W.
void write_language_targets(const std::string& dir, const std::string& image_name, const std::vector<float>& features,
                            int dims, const std::vector<float>& planes, int plane_count, int width, int height);

}  // namespace sp
