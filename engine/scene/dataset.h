#pragma once
// A posed image collection with its sparse-view split, whatever format it came from
// (COLMAP text/binary, LLFF, Blender/nerfstudio transforms, DTU in IDR/NeuS layout, DTU/SpaRe;
// one loader file per format, engine/scene/dataset_<format>.cpp, reading through engine/io).
// Cameras are in the engine's convention (engine/core/camera.h), already
// scaled to the working resolution and undistorted; images are decoded lazily, resized
// once, and kept in a bounded cache.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/camera.h"
#include "engine/core/image.h"

namespace sp {

// Points from structure-from-motion (or a synthetic stand-in) to initialize Gaussians.
struct PointCloud {
  std::vector<float> xyz;    // N x 3
  std::vector<float> rgb;    // N x 3 in [0, 1]
  // Per point, the dataset view indices that observed it; empty when the source has no
  // tracks that map to views (then has_tracks is false).
  std::vector<std::vector<int>> tracks;
  bool has_tracks = false;
  size_t size() const { return xyz.size() / 3; }
};

struct DatasetOptions {
  // Image size: downscale N divides the full size (INRIA's rounding: round(w / N)), taking the
  // capture's pre-shrunk images_N/ folder when it exists (LLFF protocol: images_8); then
  // resolution R caps the longest side at R. Both 0 (automatic): full size (or the finest
  // images_N/ when there is no images/), longest side capped at 1600 as INRIA does.
  int downscale = 0;
  int resolution = 0;
  int train_views = 0;       // N sparse training views by the dataset's protocol; 0 = all non-test
  std::vector<int> train_ids{};  // explicit split (overrides train_views)
  std::vector<int> test_ids{};
  size_t cache_bytes = size_t(2) << 30;  // bound on decoded images held in memory
  bool white_background = true;          // what transparent (RGBA) images are composited on
  // Split rule: "auto" (or empty) = the format's own (LLFF hold-out for COLMAP/LLFF, DTU's for
  // DTU layouts with 49+ views, Blender's ids for transforms_train/test); "llff", "dtu" or
  // "blender" force one (BadInput when the dataset cannot follow it) and, when neither
  // downscale nor resolution is set, the protocol's resolution: LLFF 1/8, DTU 1/4, Blender 1/2.
  std::string protocol = "auto";
};

// The downscale a named protocol evaluates at (llff 8, dtu 4, blender 2); 0 for "auto".
int protocol_downscale(const std::string& protocol);

class Dataset {
 public:
  // Detects the format at `path` and loads cameras, split and points (not pixels).
  // Throws BadInput naming the offending file on any problem.
  static Dataset load(const std::string& path, const DatasetOptions& options = {});

  std::string root;                 // the path given to load()
  std::string format;               // "colmap", "llff", "blender", "dtu" (IDR/NeuS layout), "spare"
  std::string protocol;             // which split rule was applied, in words
  std::vector<Camera> cameras;      // one per view, sorted by image name
  std::vector<std::string> image_paths;
  std::vector<int> train_ids, test_ids;
  PointCloud points;                // already restricted to what the train views may see
  bool points_from_train_views_only = false;  // tracks were used to filter the points
  // Per view (near, far) scene depth bounds when the format has them (LLFF's
  // poses_bounds.npy); empty otherwise.
  std::vector<glm::vec2> depth_bounds;
  // Typical view-space depth range of the scene (LLFF bounds, or percentiles of the SfM
  // points' depths); 0 when unknown. Random initialization samples inside it.
  float near_depth = 0.0f, far_depth = 0.0f;

  // Per view, the object mask file ("" when that view has none); empty when the dataset has
  // no masks (DTU/SpaRe scenes with mask/{i:03d}.png have them, engine/io/spare.h).
  std::vector<std::string> mask_paths;
  // The colour transparent (RGBA / grey-alpha) images were composited on (white_background: white, else black).
  glm::vec3 rgba_background{1.0f};

  size_t size() const { return cameras.size(); }
  // View i's object mask, 1 channel in [0, 1] at cameras[i]'s size (the file's first channel,
  // area-resampled: edges of a downscaled mask are fractional, threshold at 0.5 for a binary
  // mask); an empty Image when the view has no mask. Decoded on every call (not cached).
  Image mask(int view) const;
  // RGB float image of view i at cameras[i]'s size (decoded, undistorted and resized once,
  // then cached). Thread-safe.
  Image image(int view) const;
  // The same pixels without a copy (the cache may drop its reference; this one stays valid).
  std::shared_ptr<const Image> image_ptr(int view) const;
  // INRIA's "cameras_extent": 1.1 x the largest distance of a train camera from their mean.
  float scene_extent() const;

  struct ImageSource;  // how pixels are produced (defined in dataset.cpp)
  std::shared_ptr<ImageSource> source;
};

}  // namespace sp
