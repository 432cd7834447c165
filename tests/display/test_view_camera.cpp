// The viewer's camera controls (engine/display/view_camera.h): snapping reproduces the
// dataset camera exactly, intrinsics follow the window, orbit keeps the pivot.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/display/view_camera.h"
#include "engine/render/project.h"

namespace sp {
namespace {

Camera dataset_camera() {
  Camera c;
  c.width = 199;
  c.height = 299;
  c.fx = 606.3f;
  c.fy = 595.0f;
  c.cx = 101.0f;
  c.cy = 148.0f;
  const float q[4] = {0.9f, 0.1f, -0.3f, 0.2f};
  c.R = quat_to_rotation(q);
  c.t = glm::vec3(0.3f, -0.2f, 1.5f);
  return c;
}

TEST(ViewCamera, SnapGivesTheDatasetCameraAtItsSize) {
  const Camera c = dataset_camera();
  ViewCamera v;
  v.snap_to(c, 2.0f);
  const Camera got = v.camera(c.width, c.height);
  EXPECT_EQ(got.R, c.R);
  EXPECT_EQ(got.t, c.t);
  EXPECT_EQ(got.fx, c.fx);
  EXPECT_EQ(got.fy, c.fy);
  EXPECT_FLOAT_EQ(got.cx, c.cx);
  EXPECT_FLOAT_EQ(got.cy, c.cy);
}

TEST(ViewCamera, IntrinsicsFollowTheWindowHeight) {
  const Camera c = dataset_camera();
  ViewCamera v;
  v.snap_to(c, 2.0f);
  const Camera big = v.camera(800, 598);  // twice the height, wider
  EXPECT_FLOAT_EQ(big.fy, 2.0f * c.fy);
  EXPECT_FLOAT_EQ(big.fx, 2.0f * c.fx);
  EXPECT_FLOAT_EQ(big.cx, 400.0f + 2.0f * (c.cx - 99.5f));
  EXPECT_FLOAT_EQ(big.cy, 299.0f + 2.0f * (c.cy - 149.5f));
  ViewCamera free;
  free.look_from(glm::vec3(0, 0, -3), glm::vec3(0), 0.9f);
  const Camera f = free.camera(640, 480);
  EXPECT_NEAR(2.0 * std::atan(0.5 * 480.0 / f.fy), 0.9, 1e-5);
  EXPECT_NEAR(f.to_camera(glm::vec3(0)).z, 3.0f, 1e-5f);  // the target is straight ahead
  EXPECT_NEAR(f.to_camera(glm::vec3(0)).x, 0.0f, 1e-5f);
}

TEST(ViewCamera, OrbitKeepsThePivotAheadAndZoomScalesTheDistance) {
  ViewCamera v;
  v.snap_to(dataset_camera(), 2.0f);
  const Camera before = v.camera(199, 299);
  const glm::vec3 pivot = before.center() + glm::transpose(before.R) * glm::vec3(0, 0, 2);
  for (int i = 0; i < 50; ++i) v.orbit(0.05f, -0.02f);
  Camera after = v.camera(199, 299);
  glm::vec3 p = after.to_camera(pivot);
  EXPECT_NEAR(p.x, 0.0f, 1e-4f);
  EXPECT_NEAR(p.y, 0.0f, 1e-4f);
  EXPECT_NEAR(p.z, 2.0f, 1e-4f);
  EXPECT_GT(glm::length(after.center() - before.center()), 0.5f);
  // Still a rotation after many updates.
  const glm::mat3 I = after.R * glm::transpose(after.R);
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 3; ++b) EXPECT_NEAR(I[a][b], a == b ? 1.0f : 0.0f, 1e-5f);
  v.zoom(0.5f);
  after = v.camera(199, 299);
  EXPECT_NEAR(after.to_camera(pivot).z, 1.0f, 1e-4f);
  // Flying forward moves along the view axis.
  v.move(glm::vec3(0, 0, 0.25f));
  EXPECT_NEAR(v.camera(199, 299).to_camera(pivot).z, 0.75f, 1e-4f);
}

}  // namespace
}  // namespace sp
