#pragma once
// The engine's one camera convention (COLMAP/OpenCV): x_cam = R * x_world + t, +x right,
// +y down, +z forward; pinhole intrinsics in pixels with (cx, cy) measured from the image
// corner, so pixel (i, j) samples the ray through (i + 0.5, j + 0.5). Lens distortion is
// undone when images are loaded; every camera in the engine is a pinhole.
#include <string>

#include <glm/glm.hpp>

namespace sp {

struct Camera {
  std::string name;  // image file name (stem + extension), used for output names
  int width = 0;
  int height = 0;
  float fx = 0, fy = 0, cx = 0, cy = 0;
  glm::mat3 R{1.0f};  // world -> camera rotation (GLM is column-major: R[col][row])
  glm::vec3 t{0.0f};  // world -> camera translation

  glm::vec3 center() const { return -glm::transpose(R) * t; }
  glm::vec3 forward() const { return glm::transpose(R) * glm::vec3(0, 0, 1); }  // optical axis, world frame
  glm::vec3 to_camera(const glm::vec3& p) const { return R * p + t; }
  // Same camera at another image size; intrinsics scale with the size.
  Camera resized(int new_width, int new_height) const;
  // Horizontal/vertical field of view in radians.
  float fov_x() const;
  float fov_y() const;
};

}  // namespace sp
