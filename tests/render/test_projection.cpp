// Projection, covariance and SH against values computed by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/render/project.h"
#include "engine/render/sh.h"

namespace sp {
namespace {

Camera test_camera() {
  Camera c;
  c.width = 64;
  c.height = 48;
  c.fx = 100.0f;
  c.fy = 80.0f;
  c.cx = 30.0f;
  c.cy = 20.0f;
  return c;  // identity pose: world = camera frame
}

TEST(Projection, AxisAlignedGaussianAtKnownDepth) {
  const auto cam = projection_camera<double>(test_camera(), 0.2f);
  // Mean (0.4, -0.2, 4); scales (0.1, 0.2, 0.3); identity rotation.
  const double mean[3] = {0.4, -0.2, 4.0};
  const double log_scale[3] = {std::log(0.1), std::log(0.2), std::log(0.3)};
  const double quat[4] = {1, 0, 0, 0};
  ProjectedGaussianT<double> pg;
  ASSERT_TRUE(project_gaussian(cam, mean, log_scale, quat, pg));
  EXPECT_NEAR(pg.mean2d.x, 100.0 * 0.4 / 4.0 + 30.0, 1e-12);  // 40
  EXPECT_NEAR(pg.mean2d.y, 80.0 * -0.2 / 4.0 + 20.0, 1e-12);  // 16
  EXPECT_DOUBLE_EQ(pg.depth, 4.0);
  // J = [[fx/z, 0, -fx x/z²], [0, fy/z, -fy y/z²]] = [[25, 0, -2.5], [0, 20, 1]], Σ = diag(.01, .04, .09):
  // a = 625·0.01 + 6.25·0.09 + 0.3, b = -2.5·1·0.09, c = 400·0.04 + 1·0.09 + 0.3.
  EXPECT_NEAR(pg.cov2d.a, 6.25 + 0.5625 + 0.3, 1e-12);
  EXPECT_NEAR(pg.cov2d.b, -0.225, 1e-12);
  EXPECT_NEAR(pg.cov2d.c, 16.0 + 0.09 + 0.3, 1e-12);
  const double det = pg.cov2d.a * pg.cov2d.c - pg.cov2d.b * pg.cov2d.b;
  EXPECT_NEAR(pg.conic.a, pg.cov2d.c / det, 1e-12);
  EXPECT_NEAR(pg.conic.b, 0.225 / det, 1e-12);
  EXPECT_NEAR(pg.conic.c, pg.cov2d.a / det, 1e-12);
  // λmax of [[7.1125, -0.225], [-0.225, 16.39]] ≈ 16.39545 → ceil(3·4.0491) = 13.
  EXPECT_EQ(pg.radius, 13);
}

TEST(Projection, JacobianClampBeyondTheFieldOfView) {
  const auto cam = projection_camera<double>(test_camera(), 0.2f);
  // tan(fov_x/2) = 32/100 → limit 0.416; x/z = 1 is clamped inside J (not in the mean).
  const double mean[3] = {2.0, 0.0, 2.0};
  const double log_scale[3] = {std::log(0.1), std::log(0.1), std::log(0.1)};
  const double quat[4] = {1, 0, 0, 0};
  ProjectedGaussianT<double> pg;
  ASSERT_TRUE(project_gaussian(cam, mean, log_scale, quat, pg));
  EXPECT_NEAR(pg.mean2d.x, 100.0 * 1.0 + 30.0, 1e-12);
  const double u = 1.3 * 0.32;  // clamped x/z
  EXPECT_NEAR(pg.cov2d.a, (50.0 * 50.0 + (100.0 * u / 2.0) * (100.0 * u / 2.0)) * 0.01 + 0.3, 1e-9);
}

TEST(Projection, CulledBehindNearPlane) {
  const auto cam = projection_camera<double>(test_camera(), 0.2f);
  const double log_scale[3] = {0, 0, 0}, quat[4] = {1, 0, 0, 0};
  ProjectedGaussianT<double> pg;
  const double behind[3] = {0, 0, -1}, at_near[3] = {0, 0, 0.2}, in_front[3] = {0, 0, 0.21};
  EXPECT_FALSE(project_gaussian(cam, behind, log_scale, quat, pg));
  EXPECT_FALSE(project_gaussian(cam, at_near, log_scale, quat, pg));
  EXPECT_TRUE(project_gaussian(cam, in_front, log_scale, quat, pg));
}

TEST(Projection, CameraPoseTransformsTheMean) {
  Camera c = test_camera();
  // R has columns (0,0,-1), (0,1,0), (1,0,0): p_cam = (z, y, -x) + t.
  c.R = glm::mat3(glm::vec3(0, 0, -1), glm::vec3(0, 1, 0), glm::vec3(1, 0, 0));
  c.t = glm::vec3(0.5f, 0.0f, 1.0f);
  const auto cam = projection_camera<double>(c, 0.2f);
  const double mean[3] = {-3.0, 0.2, 0.5};  // p_cam = (1.0, 0.2, 4.0)
  const double log_scale[3] = {0, 0, 0}, quat[4] = {1, 0, 0, 0};
  ProjectedGaussianT<double> pg;
  ASSERT_TRUE(project_gaussian(cam, mean, log_scale, quat, pg));
  EXPECT_NEAR(pg.depth, 4.0, 1e-7);
  EXPECT_NEAR(pg.mean2d.x, 100.0 * 0.25 + 30.0, 1e-6);
  EXPECT_NEAR(pg.mean2d.y, 80.0 * 0.05 + 20.0, 1e-6);
  const double behind[3] = {3.0, 0.0, 0.5};  // p_cam z = -2
  EXPECT_FALSE(project_gaussian(cam, behind, log_scale, quat, pg));
  // The camera centre -Rᵀt maps to the camera origin.
  EXPECT_NEAR(glm::length(cam.R * cam.center + cam.t), 0.0, 1e-12);
}

TEST(Projection, RotatedQuaternionGivesKnownCovariance) {
  // 90° about z: q = (cos 45°, 0, 0, sin 45°), scaled by 3 (un-normalized input).
  const double h = std::sqrt(0.5);
  const double quat[4] = {3 * h, 0, 0, 3 * h};
  const Mat3T<double> R = quat_to_rotation(quat);
  // R maps x → y, y → -x: R = [[0, -1, 0], [1, 0, 0], [0, 0, 1]] (R[col][row]).
  EXPECT_NEAR(R[0][1], 1.0, 1e-15);
  EXPECT_NEAR(R[1][0], -1.0, 1e-15);
  EXPECT_NEAR(R[2][2], 1.0, 1e-15);
  const double log_scale[3] = {std::log(2.0), std::log(0.5), std::log(1.0)};
  const Mat3T<double> S = covariance_3d(log_scale, quat);
  // Σ = R diag(4, .25, 1) Rᵀ = diag(.25, 4, 1).
  EXPECT_NEAR(S[0][0], 0.25, 1e-14);
  EXPECT_NEAR(S[1][1], 4.0, 1e-14);
  EXPECT_NEAR(S[2][2], 1.0, 1e-14);
  EXPECT_NEAR(S[1][0], 0.0, 1e-14);

  // 45° about z with scales (2, 1, 1): Σ_xy = (4 − 1)/2 = 1.5, Σ_xx = Σ_yy = 2.5.
  const double c = std::cos(M_PI / 8), s = std::sin(M_PI / 8);
  const double q45[4] = {c, 0, 0, s};
  const double ls[3] = {std::log(2.0), 0, 0};
  const Mat3T<double> S45 = covariance_3d(ls, q45);
  EXPECT_NEAR(S45[0][0], 2.5, 1e-14);
  EXPECT_NEAR(S45[1][1], 2.5, 1e-14);
  EXPECT_NEAR(S45[0][1], 1.5, 1e-14);
  EXPECT_NEAR(S45[1][0], 1.5, 1e-14);
  EXPECT_NEAR(S45[2][2], 1.0, 1e-14);
}

TEST(SphericalHarmonics, DegreeZeroIsDcPlusHalf) {
  const double coeffs[3] = {0.7, -0.2, -3.0};
  bool clamped[3];
  const Vec3T<double> rgb = sh_to_color(0, coeffs, Vec3T<double>(0.3, -2.0, 5.0), clamped);
  EXPECT_NEAR(rgb.x, 0.28209479177387814 * 0.7 + 0.5, 1e-15);
  EXPECT_NEAR(rgb.y, 0.28209479177387814 * -0.2 + 0.5, 1e-15);
  EXPECT_EQ(rgb.z, 0.0);  // 0.5 − 0.846 < 0: clamped
  EXPECT_FALSE(clamped[0]);
  EXPECT_TRUE(clamped[2]);
}

TEST(SphericalHarmonics, DegreeOneByHand) {
  // Direction (0, 0.6, 0.8)·5 (normalization inside); coefficients k = 1, 2, 3 multiply
  // -C1 y, C1 z, -C1 x.
  double coeffs[12] = {};
  coeffs[0] = 0.1;       // DC, red
  coeffs[1 * 3 + 0] = 0.5;   // k=1 red
  coeffs[2 * 3 + 1] = 0.25;  // k=2 green
  coeffs[3 * 3 + 2] = 1.0;   // k=3 blue
  bool clamped[3];
  const Vec3T<double> rgb = sh_to_color(1, coeffs, Vec3T<double>(0.0, 3.0, 4.0), clamped);
  const double C0 = 0.28209479177387814, C1 = 0.4886025119029199;
  EXPECT_NEAR(rgb.x, C0 * 0.1 - C1 * 0.6 * 0.5 + 0.5, 1e-15);
  EXPECT_NEAR(rgb.y, C1 * 0.8 * 0.25 + 0.5, 1e-15);
  EXPECT_NEAR(rgb.z, -C1 * 0.0 * 1.0 + 0.5, 1e-15);
  // Degree 0 ignores the higher coefficients.
  const Vec3T<double> dc = sh_to_color(0, coeffs, Vec3T<double>(0.0, 3.0, 4.0), clamped);
  EXPECT_NEAR(dc.x, C0 * 0.1 + 0.5, 1e-15);
}

TEST(SphericalHarmonics, BasisIsOrthonormalOnTheSphere) {
  // Monte Carlo-free check: a fine quadrature over the sphere of Y_i Y_j ≈ δ_ij.
  double gram[16][16] = {};
  const int nt = 200, np = 400;
  for (int i = 0; i < nt; ++i) {
    const double theta = (i + 0.5) * M_PI / nt;
    for (int j = 0; j < np; ++j) {
      const double phi = (j + 0.5) * 2 * M_PI / np;
      const Vec3T<double> n(std::sin(theta) * std::cos(phi), std::sin(theta) * std::sin(phi), std::cos(theta));
      double Y[16];
      sh_basis(3, n, Y);
      const double w = std::sin(theta) * (M_PI / nt) * (2 * M_PI / np);
      for (int a = 0; a < 16; ++a)
        for (int b = 0; b < 16; ++b) gram[a][b] += Y[a] * Y[b] * w;
    }
  }
  for (int a = 0; a < 16; ++a)
    for (int b = 0; b < 16; ++b) EXPECT_NEAR(gram[a][b], a == b ? 1.0 : 0.0, 2e-4) << a << "," << b;
}

}  // namespace
}  // namespace sp
