#include "engine/core/camera.h"

#include <cmath>

namespace sp {

Camera Camera::resized(int new_width, int new_height) const {
  Camera c = *this;
  const float sx = float(new_width) / float(width), sy = float(new_height) / float(height);
  c.width = new_width;
  c.height = new_height;
  c.fx = fx * sx;
  c.fy = fy * sy;
  c.cx = cx * sx;
  c.cy = cy * sy;
  return c;
}

float Camera::fov_x() const { return 2.0f * std::atan(0.5f * float(width) / fx); }
float Camera::fov_y() const { return 2.0f * std::atan(0.5f * float(height) / fy); }

}  // namespace sp
