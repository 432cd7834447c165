// Orbit / fly camera of the viewer (view_camera.h).
#include "engine/display/view_camera.h"

#include <algorithm>
#include <cmath>

#include <glm/gtc/matrix_transform.hpp>

namespace sp {

namespace {
// Rotation by `angle` about a unit axis.
glm::mat3 rotation(const glm::vec3& axis, float angle) { return glm::mat3(glm::rotate(glm::mat4(1.0f), angle, axis)); }

// Re-orthonormalizes a rotation after many small updates (Gram-Schmidt on its columns).
glm::mat3 orthonormal(glm::mat3 m) {
  m[2] = glm::normalize(m[2]);
  m[0] = glm::normalize(m[0] - glm::dot(m[0], m[2]) * m[2]);
  m[1] = glm::cross(m[2], m[0]);
  return m;
}
}  // namespace

void ViewCamera::look_from(const glm::vec3& center, const glm::vec3& target, float fov_y) {
  glm::vec3 forward = target - center;
  distance_ = glm::length(forward);
  forward = distance_ > 0 ? forward / distance_ : glm::vec3(0, 0, 1);
  if (!(distance_ > 0)) distance_ = 1.0f;
  // Down = world -y projected off the forward axis (INRIA/COLMAP scenes are often +y down; fine either way).
  glm::vec3 down = glm::vec3(0, 1, 0) - forward * forward.y;
  if (glm::length(down) < 1e-4f) down = glm::vec3(0, 0, 1) - forward * forward.z;
  down = glm::normalize(down);
  cam_to_world_ = glm::mat3(glm::cross(down, forward), down, forward);
  center_ = center;
  exact_pose_ = false;
  ref_width_ = ref_height_ = 0;
  fov_y_ = fov_y;
}

void ViewCamera::snap_to(const Camera& camera, float orbit_distance) {
  cam_to_world_ = glm::transpose(camera.R);
  center_ = camera.center();
  exact_pose_ = true;
  exact_R_ = camera.R;
  exact_t_ = camera.t;
  if (orbit_distance > 0) distance_ = orbit_distance;
  ref_width_ = camera.width;
  ref_height_ = camera.height;
  fx_ = camera.fx;
  fy_ = camera.fy;
  cx_ = camera.cx;
  cy_ = camera.cy;
}

void ViewCamera::orbit(float yaw, float pitch) {
  const glm::vec3 pivot = center_ + cam_to_world_[2] * distance_;
  look(yaw, pitch);
  center_ = pivot - cam_to_world_[2] * distance_;
}

void ViewCamera::look(float yaw, float pitch) {
  // Rotations in the camera frame: yaw about its y (down) axis, pitch about its x axis.
  const glm::mat3 q = rotation(glm::vec3(0, 1, 0), yaw) * rotation(glm::vec3(1, 0, 0), pitch);
  cam_to_world_ = orthonormal(cam_to_world_ * q);
  exact_pose_ = false;
}

void ViewCamera::move(const glm::vec3& offset) {
  center_ += cam_to_world_ * offset;
  exact_pose_ = false;
}

void ViewCamera::zoom(float factor) {
  const glm::vec3 pivot = center_ + cam_to_world_[2] * distance_;
  distance_ = std::clamp(distance_ * factor, 1e-4f, 1e6f);
  center_ = pivot - cam_to_world_[2] * distance_;
  exact_pose_ = false;
}

void ViewCamera::pan(float dx, float dy) {
  center_ += cam_to_world_[0] * dx + cam_to_world_[1] * dy;
  exact_pose_ = false;
}

Camera ViewCamera::camera(int width, int height) const {
  Camera c;
  c.name = "view";
  c.width = std::max(width, 1);
  c.height = std::max(height, 1);
  if (ref_height_ > 0) {
    const float s = float(c.height) / float(ref_height_);
    c.fx = fx_ * s;
    c.fy = fy_ * s;
    c.cx = 0.5f * float(c.width) + (cx_ - 0.5f * float(ref_width_)) * s;
    c.cy = 0.5f * float(c.height) + (cy_ - 0.5f * float(ref_height_)) * s;
  } else {
    c.fy = 0.5f * float(c.height) / std::tan(0.5f * fov_y_);
    c.fx = c.fy;
    c.cx = 0.5f * float(c.width);
    c.cy = 0.5f * float(c.height);
  }
  c.R = exact_pose_ ? exact_R_ : glm::transpose(cam_to_world_);
  c.t = exact_pose_ ? exact_t_ : -(c.R * center_);
  return c;
}

}  // namespace sp
