#pragma once
// DTU / SpaRe (AIM 2024 sparse neural rendering) scenes: one folder per scene holding
//   pos_XXX.txt            3x4 projection matrix P = K [R | t] (3 lines of 4 numbers), file
//                          number XXX = view index + 1; also looked for in Cameras/ or cameras/
//   cam_XXX_L_0000.png     image of view XXX-1 under lighting set-up L (SpaRe synthetic), or
//   rect_XXX_L_r5000.png   the same in DTU's rectified naming
//   mask/{i:03d}.png       optional object masks, 0-based view index (IDR/NeuS DTU naming;
//                          masks/ and mask/{i:03d}.png with 1-based XXX are not used)
// and a split file `{scene: {"input_views": [...], "test_views": [...], "dataset": "..."}}`
// (0-based view indices) named split.json in the scene folder or in its parent.
//
// P is decomposed as DTU/RegNeRF loaders do (RQ decomposition of P's left 3x3 block): K
// upper triangular with a positive diagonal and K[2][2] = 1, R a rotation (det +1; P is
// negated first when its left block has a negative determinant, as P is defined up to scale),
// t = (sK)^-1 p4 with s the scale removed from K. K's principal point is taken in the
// engine's convention (pixel (i, j) is sampled at (i + 0.5, j + 0.5)), as RegNeRF's ray
// generator does; K's skew, if any, is dropped (a debug message says how much).
#include <array>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <glm/glm.hpp>

#include "engine/core/camera.h"

namespace sp {

// Row-major 3x4 projection matrix.
using ProjectionMatrix = std::array<double, 12>;

struct DecomposedProjection {
  glm::dmat3 K{1.0};  // upper triangular, K[2][2] = 1, positive diagonal (GLM: K[col][row])
  glm::dmat3 R{1.0};  // world -> camera rotation, det +1
  glm::dvec3 t{0.0};  // world -> camera translation
};

// The engine camera of a decomposed projection for an image of the given size; K's skew
// is dropped (the engine's cameras have none; a debug line naming `where` says so).
Camera camera_from_projection(const DecomposedProjection& d, const std::string& name, int width, int height,
                              const std::string& where);

// 12 finite numbers separated by white space (DTU writes 3 lines of 4). BadInput naming
// `where` for a wrong count or a field that is not a number.
ProjectionMatrix parse_projection_matrix(std::string_view text, const std::string& where);
ProjectionMatrix read_projection_matrix(const std::string& path);
// 3 lines of 4 shortest round-trip decimals (parse_projection_matrix reads it back exactly).
std::string encode_projection_matrix(const ProjectionMatrix& P);
// P = K [R | t] from the engine's matrices.
ProjectionMatrix compose_projection(const glm::dmat3& K, const glm::dmat3& R, const glm::dvec3& t);
// BadInput naming `where` when P's left 3x3 block is singular or P is not finite.
DecomposedProjection decompose_projection(const ProjectionMatrix& P, const std::string& where);

struct SpareSplit {
  std::vector<int> input_views;  // 0-based view indices, in the file's order
  std::vector<int> test_views;
  std::string dataset;           // the file's "dataset" string ("" when absent)
};
// {scene: {input_views, test_views, dataset}}; BadInput naming `where` for malformed JSON,
// a scene entry that is not an object, or view lists that are not lists of integers >= 0.
std::map<std::string, SpareSplit> parse_spare_split(std::string_view text, const std::string& where);
std::map<std::string, SpareSplit> read_spare_split(const std::string& path);
std::string encode_spare_split(const std::map<std::string, SpareSplit>& scenes);

// File name patterns. Return false when `filename` does not match.
bool parse_spare_image_name(const std::string& filename, int& number, int& lighting);  // cam_/rect_ names
bool parse_spare_pos_name(const std::string& filename, int& number);                   // pos_XXX.txt
std::string spare_image_name(int view, int lighting);  // cam_{view+1:03d}_{lighting}_0000.png
std::string spare_pos_name(int view);                  // pos_{view+1:03d}.txt
std::string spare_mask_name(int view);                 // {view:03d}.png (inside mask/)

struct SpareView {
  Camera camera;           // pose from pos_XXX.txt; intrinsics at the image file's size; name = image file name
  std::string image_path;
  std::string pos_path;
  std::string mask_path;   // "" when the scene has no mask for this view
};

struct SpareScene {
  std::string dir;
  std::string name;        // the folder's name: the split file's key
  int lighting = -1;       // the lighting set-up whose images were taken
  std::vector<int> lightings;  // every lighting index found
  std::vector<SpareView> views;  // view i <-> file number i + 1
  bool has_split = false;
  SpareSplit split;
  std::string split_file;  // "" when none was found
};

// True when `dir` holds pos_XXX.txt files (directly or in Cameras/ / cameras/).
bool looks_like_spare_scene(const std::string& dir);
// The scene folder a path names: `dir` itself when it looks like a scene, else the one
// scene of `dir`/split.json when that file names exactly one scene whose folder (beside
// the file) looks like a scene; "" otherwise.
std::string find_spare_scene_dir(const std::string& dir);

// Reads the scene's cameras, image names and split (pixels are not decoded; image sizes come
// from the file headers). `lighting` < 0 picks 3 (the benchmark's evaluated set-up) when
// present, else the smallest index found. The views are the image files of that lighting;
// their numbers must run 1..n without gaps, and each needs its pos file.
SpareScene read_spare_scene(const std::string& dir, int lighting = -1);

}  // namespace sp
