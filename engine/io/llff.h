#pragma once
// LLFF captures: poses_bounds.npy (one row of 17 numbers per image, rows in image-name
// order) + images/ or pre-shrunk images_N/ folders.
//
// Each row is a 3x5 matrix [R | c | hwf] (row-major) followed by the near and far depth
// bounds. R's columns are the camera's axes in world coordinates in LLFF's order "down,
// right, back", c is the camera centre, hwf = full-size image height, width and focal
// length in pixels. Our convention (COLMAP/OpenCV, engine/core/camera.h) wants the axes
// "right, down, forward", so the camera-to-world rotation is
//     C = [ R[:,1]  R[:,0]  -R[:,2] ]
// and the world-to-camera pose is R_w2c = C^T, t = -C^T c. (This is exactly the inverse of
// LLFF's imgs2poses, which turned COLMAP's poses into this layout: checked against the room
// scene's images.bin, equal to 1e-15.) The principal point is the image centre.
#include <string>
#include <vector>

#include "engine/core/camera.h"
#include "engine/io/image_folder.h"
#include "engine/io/npy.h"

namespace sp {

struct LlffView {
  Camera camera;         // pinhole at the size the row names (hwf), pose converted
  float near = 0, far = 0;  // depth bounds of the scene seen from this view
};

// One LlffView per row of an N x 17 array. BadInput naming `where` for a wrong shape,
// non-finite numbers, a non-positive size/focal or a matrix that is not a rotation.
std::vector<LlffView> parse_poses_bounds(const NpyArray& array, const std::string& where);
std::vector<LlffView> read_poses_bounds(const std::string& path);

// One row's 15 pose numbers -> camera at the row's size (no validation).
Camera llff_row_to_camera(const double* row15);

struct LlffScene {
  std::vector<LlffView> views;           // image-name order; cameras scaled to the files' size
  std::vector<std::string> image_paths;  // one per view
  ImageFolder folder;                    // where the images came from
  int full_width = 0, full_height = 0;   // size named by poses_bounds (first row)
};

// root/poses_bounds.npy + the image folder chosen for `downscale` (see image_folder.h).
// Intrinsics are scaled from the full size in poses_bounds to the size of the images on
// disk (read from the first image's header; the dataset checks every image). BadInput if
// the number of images differs from the number of rows.
LlffScene read_llff(const std::string& root, int downscale);

}  // namespace sp
