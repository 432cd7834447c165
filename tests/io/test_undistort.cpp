#include <gtest/gtest.h>

#include <cmath>

#include "engine/io/colmap.h"
#include "engine/io/undistort.h"
#include "support/test_support.h"

namespace sp {
namespace {

std::vector<Distortion> models() {
  std::vector<Distortion> out(5);
  out[0].model = Distortion::Model::SimpleRadial;
  out[0].k1 = -0.5517206422349514;  // the statue's lens
  out[1].model = Distortion::Model::SimpleRadial;
  out[1].k1 = 0.08;
  out[2].model = Distortion::Model::Radial;
  out[2].k1 = -0.2;
  out[2].k2 = 0.05;
  out[3].model = Distortion::Model::OpenCV;
  out[3].k1 = -0.12;
  out[3].k2 = 0.03;
  out[3].p1 = 0.002;
  out[3].p2 = -0.001;
  out[4].model = Distortion::Model::FullOpenCV;
  out[4].k1 = -0.1;
  out[4].k2 = 0.02;
  out[4].p1 = 0.001;
  out[4].p2 = 0.0005;
  out[4].k3 = 0.001;
  out[4].k4 = 0.05;
  return out;
}

TEST(Undistort, ForwardFormulasMatchColmap) {
  // Hand-evaluated COLMAP formulas at (u, v) = (0.3, -0.2): r2 = 0.13.
  Distortion d;
  d.model = Distortion::Model::SimpleRadial;
  d.k1 = -0.5;
  double ud, vd;
  d.distort(0.3, -0.2, ud, vd);
  EXPECT_DOUBLE_EQ(ud, 0.3 * (1 - 0.5 * 0.13));
  EXPECT_DOUBLE_EQ(vd, -0.2 * (1 - 0.5 * 0.13));
  d.model = Distortion::Model::OpenCV;
  d.k1 = -0.1;
  d.k2 = 0.01;
  d.p1 = 0.001;
  d.p2 = 0.002;
  d.distort(0.3, -0.2, ud, vd);
  const double radial = -0.1 * 0.13 + 0.01 * 0.13 * 0.13, uv = 0.3 * -0.2;
  EXPECT_NEAR(ud, 0.3 + 0.3 * radial + 2 * 0.001 * uv + 0.002 * (0.13 + 2 * 0.09), 1e-16);
  EXPECT_NEAR(vd, -0.2 + -0.2 * radial + 2 * 0.002 * uv + 0.001 * (0.13 + 2 * 0.04), 1e-16);
  Distortion none;
  none.distort(0.3, -0.2, ud, vd);
  EXPECT_EQ(ud, 0.3);
  EXPECT_TRUE(none.is_none());
}

TEST(Undistort, DistortThenUndistortRoundTrips) {
  // A grid of normalized points over a 60-degree field of view, every model.
  for (const Distortion& d : models()) {
    double worst = 0;
    for (int i = -10; i <= 10; ++i)
      for (int j = -10; j <= 10; ++j) {
        const double u = 0.03 * i, v = 0.02 * j;
        double ud, vd, u2, v2;
        d.distort(u, v, ud, vd);
        ASSERT_TRUE(d.undistort(ud, vd, u2, v2)) << d.describe() << " at " << u << ", " << v;
        worst = std::max({worst, std::abs(u2 - u), std::abs(v2 - v)});
      }
    EXPECT_LT(worst, 1e-12) << d.describe();  // x 2474 px focal: far below a pixel
  }
}

// A smooth pattern defined on the undistorted (pinhole) image plane, in normalized coords.
float pattern(double u, double v) { return float(0.5 + 0.25 * std::sin(9 * u) * std::cos(7 * v) + 0.2 * u); }

TEST(Undistort, UndistortedImageMatchesThePinholeRender) {
  const int W = 160, H = 120;
  const double fx = 300, fy = 304, cx = 80.5, cy = 59.5;  // ~30 degrees wide, like the statue
  for (const Distortion& d : models()) {
    // The distorted photo: each of its pixels sees the undistorted direction it maps from.
    Image photo(W, H, 1);
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < W; ++x) {
        double u, v;
        ASSERT_TRUE(d.undistort((x + 0.5 - cx) / fx, (y + 0.5 - cy) / fy, u, v));
        photo.at(x, y, 0) = pattern(u, v);
      }
    const UndistortMap map = make_undistort_map(W, H, fx, fy, cx, cy, d);
    const Image out = undistort_image(photo, map);
    // Compare with the ideal pinhole render away from the border (which may lack sources).
    double err = 0;
    int n = 0;
    for (int y = 10; y < H - 10; ++y)
      for (int x = 10; x < W - 10; ++x) {
        err += std::abs(out.at(x, y, 0) - pattern((x + 0.5 - cx) / fx, (y + 0.5 - cy) / fy));
        ++n;
      }
    EXPECT_LT(err / n, 2e-3) << d.describe();  // bilinear resampling error of the pattern
    // Without undistortion the error is much larger: the test can tell.
    double raw = 0;
    for (int y = 10; y < H - 10; ++y)
      for (int x = 10; x < W - 10; ++x) raw += std::abs(photo.at(x, y, 0) - pattern((x + 0.5 - cx) / fx, (y + 0.5 - cy) / fy));
    EXPECT_GT(raw / n, 5 * err / n) << d.describe();
  }
}

TEST(Undistort, StatueCameraMap) {
  // The statue's SIMPLE_RADIAL camera (cameras.bin): f = 2474.3, k = -0.552, 800 x 1200.
  Distortion d;
  d.model = Distortion::Model::SimpleRadial;
  d.k1 = -0.5517206422349514;
  const double f = 2474.301987360509;
  const UndistortMap map = make_undistort_map(800, 1200, f, f, 400, 600, d);
  // Barrel distortion with the same intrinsics: every output pixel has a source pixel.
  EXPECT_EQ(map.outside, 0u);
  // Reference positions computed independently (Python, COLMAP's formula): the corner pixel
  // (0, 0) samples the photo at (18.685, 28.040), the far corner at (780.315, 1170.960).
  EXPECT_NEAR(map.source[0], 18.685227, 1e-3);
  EXPECT_NEAR(map.source[1], 28.039534, 1e-3);
  const size_t last = (size_t(1199) * 800 + 799) * 2;
  EXPECT_NEAR(map.source[last], 780.314773, 1e-3);
  EXPECT_NEAR(map.source[last + 1], 1170.960466, 1e-3);
  const size_t top = size_t(400) * 2;  // pixel (400, 0)
  EXPECT_NEAR(map.source[top], 399.983806, 1e-3);
  EXPECT_NEAR(map.source[top + 1], 19.416980, 1e-3);

  // Pincushion distortion maps the corners outside the photo: counted.
  d.k1 = 0.3;
  EXPECT_GT(make_undistort_map(80, 120, f / 10, f / 10, 40, 60, d).outside, 0u);
}

TEST(Undistort, RealStatueCameraFromCamerasBin) {
  SP_REQUIRE_DATASET(statue, "statue/sparse/0");
  const ColmapModel m = read_colmap_model(statue);
  const ColmapIntrinsics in = colmap_intrinsics(m.cameras.at(0), m.cameras_file);
  EXPECT_EQ(in.distortion.model, Distortion::Model::SimpleRadial);
  EXPECT_NEAR(in.distortion.k1, -0.5517206422349514, 1e-15);
  EXPECT_EQ(in.distortion.describe(), "SIMPLE_RADIAL k=-0.551721");
  EXPECT_EQ(in.camera.width, 800);
  EXPECT_EQ(in.camera.height, 1200);
  EXPECT_FLOAT_EQ(in.camera.cx, 400.0f);
  EXPECT_FLOAT_EQ(in.camera.cy, 600.0f);
}

}  // namespace
}  // namespace sp
