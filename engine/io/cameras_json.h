#pragma once
// INRIA 3DGS's cameras.json (written next to point_cloud.ply by INRIA, gsplat's
// exporters, OpenSplat...): a JSON list of
//   {"id", "img_name", "width", "height",
//    "position": [3]     camera centre in world coordinates,
//    "rotation": [3][3]  camera-to-world rotation, listed row by row, OpenCV axes
//                        (+x right, +y down, +z forward),
//    "fx", "fy"}         focal lengths in pixels.
// The format has no principal point: readers assume the image centre, cx = W/2, cy = H/2
// (what INRIA's and OpenSplat's renderers use). Converted to/from sp::Camera
// (world-to-camera R = rotationᵀ, t = -R * position). img_name is kept as written: INRIA
// writes the image stem, OpenSplat the file name with its extension.
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/camera.h"

namespace sp {

// Cameras in file order. `ids`, when given, receives each entry's "id". BadInput naming
// the file and the entry for malformed JSON, a missing field, a non-positive size or
// focal length, or a rotation that is not a rotation matrix.
std::vector<Camera> read_cameras_json(const std::string& path, std::vector<int>* ids = nullptr);
// The same from the file's text; `where` names it in errors.
std::vector<Camera> parse_cameras_json(std::string_view text, const std::string& where, std::vector<int>* ids = nullptr);

// Writes the list (id = index, img_name = Camera::name), atomically. The principal point
// is dropped, as INRIA does for every camera: a camera whose (cx, cy) is not the image
// centre reads back with the centre.
void write_cameras_json(const std::string& path, const std::vector<Camera>& cameras);

}  // namespace sp
