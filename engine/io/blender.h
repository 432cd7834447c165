#pragma once
// Blender (NeRF-synthetic) and nerfstudio "transforms" JSON files.
//
// Intrinsics: camera_angle_x (horizontal field of view; camera_angle_y optional, else
// square pixels), or nerfstudio's fl_x, fl_y, cx, cy, w, h (at the top level or per frame),
// with optional OpenCV distortion k1, k2, p1, p2 (k3 -> FULL_OPENCV). Without w/h the size
// comes from each image's header. The principal point defaults to the image centre.
//
// Poses: transform_matrix is camera -> world in OpenGL/Blender axes (+x right, +y up, +z
// backwards: the camera looks along -z). Ours (engine/core/camera.h) is +y down, +z forward,
// i.e. the same x axis with y and z flipped: C = M[:3,:3] * diag(1, -1, -1), then
// R_w2c = C^T and t = -C^T * M[:3,3].
//
// frames[].file_path is relative to the JSON file's folder, with or without an extension
// (NeRF-synthetic writes "./train/r_0" for train/r_0.png).
#include <string>
#include <string_view>
#include <vector>

#include <glm/glm.hpp>

#include "engine/core/camera.h"
#include "engine/io/undistort.h"

namespace sp {

struct TransformsFrame {
  std::string path;  // the image file, resolved (extension added when the JSON omits it)
  std::string name;  // file_path as written without a leading "./", plus the resolved extension
  Camera camera;     // pose converted, intrinsics at `camera.width x camera.height`
  Distortion distortion;
};

// The frames of one transforms file, in file order. BadInput naming the JSON file (and the
// frame) for malformed JSON, missing or mistyped keys, missing images, non-rotations and
// unsupported camera models (fisheye, equirectangular).
std::vector<TransformsFrame> parse_transforms(std::string_view json_text, const std::string& json_path);
std::vector<TransformsFrame> read_transforms(const std::string& json_path);

// Camera-to-world matrix in OpenGL axes -> world-to-camera pose in ours (R, t only).
void set_pose_from_opengl_c2w(Camera& camera, const glm::dmat4& c2w);

}  // namespace sp
