#pragma once
// The viewer's camera: a pose (camera-to-world rotation + centre) driven by orbit and fly
// controls, and intrinsics that follow the window size. Snapping to a dataset camera gives
// back exactly that camera when the window has its size (tests/display check it), so a
// screenshot can be compared with a headless render of the same view.
#include <glm/glm.hpp>

#include "engine/core/camera.h"

namespace sp {

class ViewCamera {
 public:
  // A free camera at `center` looking along +z (OpenCV axes: +x right, +y down), vertical
  // field of view `fov_y` (radians); orbiting turns around the point `distance` ahead.
  void look_from(const glm::vec3& center, const glm::vec3& target, float fov_y);
  // Adopts a dataset camera's pose and intrinsics; `orbit_distance` > 0 sets the pivot.
  void snap_to(const Camera& camera, float orbit_distance);

  // Orbit: turn about the pivot by yaw (about the camera's y axis) and pitch (x axis).
  void orbit(float yaw, float pitch);
  // Fly: turn in place; move in the camera frame (right, down, forward), in world units.
  void look(float yaw, float pitch);
  void move(const glm::vec3& camera_frame_offset);
  // Dolly toward the pivot: the distance is multiplied by `factor` (> 0).
  void zoom(float factor);
  // Pan the pivot and the camera together by a camera-frame offset (right, down).
  void pan(float dx, float dy);

  // The camera for a window of width x height pixels.
  Camera camera(int width, int height) const;
  glm::vec3 center() const { return center_; }
  float orbit_distance() const { return distance_; }

 private:
  glm::mat3 cam_to_world_{1.0f};  // columns: right, down, forward in world space
  glm::vec3 center_{0.0f};
  float distance_ = 1.0f;
  // Intrinsics relative to a reference size: focal lengths scale with the height, the
  // principal point keeps its offset from the image centre (scaled).
  int ref_width_ = 0, ref_height_ = 0;  // 0: a free camera (fov_y_)
  float fx_ = 0, fy_ = 0, cx_ = 0, cy_ = 0;
  float fov_y_ = 0.9f;
  // The snapped camera's own R and t while the pose is untouched (no round trip through
  // centre and rotation: the view is bit for bit the dataset's).
  bool exact_pose_ = false;
  glm::mat3 exact_R_{1.0f};
  glm::vec3 exact_t_{0.0f};
};

}  // namespace sp
