#pragma once
// Internal to engine/scene: what each format loader (dataset_<format>.cpp) hands to the
// common assembly in Dataset::load (dataset.cpp), and the few helpers the loaders share.
// A loader reads cameras, image paths, points and masks through engine/io and describes the
// format's own split rule; it computes no split: Dataset::load applies the rule, or the
// --protocol / explicit ids that replace it, in one place.
#include <cstdint>
#include <filesystem>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/core/camera.h"
#include "engine/io/spare.h"
#include "engine/io/undistort.h"
#include "engine/scene/dataset.h"

namespace sp {
struct ColmapPoints;
}

namespace sp::format_loader {

// One view as the format describes it; the image file is checked later, by Dataset::load.
struct View {
  Camera camera;  // pinhole intrinsics at `camera.width x camera.height`, pose set, name set
  Distortion distortion;
  int lens = -1;  // same lens id => same intrinsics and distortion (shares an undistortion map)
  std::string path;
  // Size of the capture the format's record describes, when it differs from `camera`'s (LLFF:
  // poses_bounds' height and width while `camera` is at the chosen folder's size); 0 = the
  // camera's. A protocol's downscale (LLFF 1/8, DTU 1/4) is a fraction of this size.
  int capture_width = 0, capture_height = 0;
};

// The format's own train/test rule (DatasetOptions::protocol "auto").
struct SplitRule {
  enum class Kind {
    holdout,         // LLFF/Mip-NeRF: every 8th view by name tests (holdout_split)
    dtu_when_49,     // DTU's protocol with 49+ views (view i = DTU view i), else the hold-out
    blender,         // transforms_train frames, then transforms_test frames (blender_split)
    split_file,      // the input/test views of a SpaRe split file (spare_file_split)
  };
  Kind kind = Kind::holdout;
  int train_frames = 0, test_frames = 0;  // blender
  SpareSplit file_views;                  // split_file: the scene's entry,
  std::string file, scene;                // the file it came from and the scene's name
  // split_file: sort the ids (SpaRe scenes); a split.json beside a COLMAP model keeps the
  // file's order of input views.
  bool ascending = true;
};

struct Loaded {
  std::string format;
  std::vector<View> views;
  PointCloud points;          // tracks are view indices when has_tracks
  std::vector<glm::vec2> bounds;
  SplitRule split_rule;
  std::string note;           // where the images came from, for the log
  std::vector<std::string> masks;  // per view ("" = none); empty when the format has no masks
};

// `downscale` is DatasetOptions::downscale (0 = automatic): which pre-shrunk images_N/ folder to
// read when the format has them. The working size is chosen by Dataset::load.
Loaded load_colmap(const std::string& root, const std::string& model_dir, int downscale);
Loaded load_llff(const std::string& root, int downscale);
Loaded load_blender(const std::string& root);
Loaded load_dtu(const std::string& root, const std::string& cameras_file);
Loaded load_spare(const std::string& scene_dir);

// The COLMAP model folder of `root` (sparse/0, sparse or root itself, the first holding
// cameras.{bin,txt}); "" when none.
std::string find_colmap_dir(const std::string& root);
// cameras_sphere.npz (NeuS) or cameras.npz (IDR) beside an images/ folder; "" when none.
std::string find_idr_cameras(const std::string& root);

bool is_file(const std::filesystem::path& p);

// COLMAP points as engine points (colours to [0, 1]). With `view_of_image`, tracks become
// sorted, unique view indices and `unmapped` counts the track entries naming other images.
PointCloud colmap_points(const ColmapPoints& p, const std::unordered_map<uint32_t, int>* view_of_image,
                         size_t& unmapped);

}  // namespace sp::format_loader
