// DTU cameras against DTU's own object masks: the visual hull carved by the other 48
// views must project inside each view's mask. A camera that is off by a few pixels, or an
// image/camera ordering slip, shows up as hull points landing outside the silhouette.
#include <gtest/gtest.h>

#include <cstdio>
#include <vector>

#include "engine/scene/dataset.h"
#include "engine/scene/view_volume.h"
#include "support/test_support.h"

namespace sp {
namespace {

TEST(DtuCameras, VisualHullOfTheOtherViewsFallsInsideEachMask) {
  SP_REQUIRE_DATASET(root, "dtu_scan24");
  DatasetOptions o;
  o.downscale = 8;  // 200x150: enough for a pixel-level check, fast
  const Dataset d = Dataset::load(root, o);
  ASSERT_EQ(d.size(), 49u);
  std::vector<Image> masks;
  for (size_t v = 0; v < d.size(); ++v) masks.push_back(d.mask(int(v)));
  // Grid over the unit sphere's box (the normalized frame of cameras_sphere.npz).
  const int n = 48;
  std::vector<glm::vec3> grid;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j)
      for (int k = 0; k < n; ++k)
        grid.emplace_back(-1.0f + 2.0f * (float(i) + 0.5f) / float(n), -1.0f + 2.0f * (float(j) + 0.5f) / float(n),
                          -1.0f + 2.0f * (float(k) + 0.5f) / float(n));
  // inside[v][p]: point p projects into view v's mask (eroded by nothing; > 0.5).
  std::vector<std::vector<uint8_t>> inside(d.size(), std::vector<uint8_t>(grid.size(), 0));
  for (size_t v = 0; v < d.size(); ++v) {
    const Camera& c = d.cameras[v];
    for (size_t p = 0; p < grid.size(); ++p) {
      const glm::vec3 x = c.to_camera(grid[p]);
      if (x.z <= 0) continue;
      const int u = int(c.fx * x.x / x.z + c.cx), w = int(c.fy * x.y / x.z + c.cy);
      if (u < 0 || w < 0 || u >= c.width || w >= c.height) continue;
      inside[v][p] = masks[v].at(u, w, 0) > 0.5f;
    }
  }
  double worst = 1.0;
  for (size_t v = 0; v < d.size(); ++v) {
    size_t hull = 0, hit = 0;
    for (size_t p = 0; p < grid.size(); ++p) {
      bool in_others = true;
      for (size_t o2 = 0; o2 < d.size() && in_others; ++o2)
        if (o2 != v && !inside[o2][p]) in_others = false;
      if (!in_others) continue;
      ++hull;
      hit += inside[v][p];
    }
    ASSERT_GT(hull, 100u) << "view " << v;
    const double f = double(hit) / double(hull);
    worst = std::min(worst, f);
    EXPECT_GT(f, 0.95) << "view " << v << ": " << hit << " of " << hull << " hull points inside its mask";
  }
  std::printf("worst view: %.4f of the others' visual hull inside its mask\n", worst);
}

}  // namespace
}  // namespace sp

namespace sp {
namespace {

TEST(ViewVolume, CountsTheCamerasThatSeeAPointBetweenNearAndFar) {
  // Two cameras at x = -1 and x = +1 looking down +z, 100x100, 90 degree field of view.
  std::vector<Camera> cams(2);
  for (int i = 0; i < 2; ++i) {
    cams[size_t(i)].width = cams[size_t(i)].height = 100;
    cams[size_t(i)].fx = cams[size_t(i)].fy = 50;
    cams[size_t(i)].cx = cams[size_t(i)].cy = 50;
    cams[size_t(i)].t = glm::vec3(i == 0 ? 1.0f : -1.0f, 0, 0);  // centre at x = -1 / +1
  }
  const float pts[] = {0, 0, 5,     // both
                       -3, 0, 2,    // only the left camera (u = 0, its image's first column)
                       0, 0, -1,    // behind both
                       0, 0, 50,    // beyond far
                       10, 0, 1};   // outside both images
  const auto seen = views_seeing(pts, 5, cams, 0.1f, 20.0f);
  EXPECT_EQ(seen[0], 2);
  EXPECT_EQ(seen[1], 1);
  EXPECT_EQ(seen[2], 0);
  EXPECT_EQ(seen[3], 0);
  EXPECT_EQ(seen[4], 0);
  EXPECT_EQ(views_seeing(pts + 9, 1, cams, 0.1f, 0.0f)[0], 2);  // no far bound
}

}  // namespace
}  // namespace sp
