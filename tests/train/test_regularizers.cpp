// Sparse-view regularizers: every gradient against central finite differences in double,
// the masked photometric loss (pseudo targets) and the co-regularization's symmetric
// gradient, pseudo-view poses, nearest-neighbour co-pruning and FSGS unpooling.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <vector>

#include <glm/gtc/quaternion.hpp>

#include "engine/core/rng.h"
#include "engine/train/binocular.h"
#include "engine/train/losses.h"
#include "engine/train/pseudo_views.h"
#include "engine/train/regularizers.h"
#include "engine/train/unpooling.h"

namespace sp {
namespace {

std::vector<double> uniform_values(size_t n, double lo, double hi, uint64_t seed) {
  Rng rng(seed);
  std::vector<double> v(n);
  for (double& x : v) x = lo + (hi - lo) * double(rng.uniform());
  return v;
}

// Central differences of f at every entry of x against `analytic`; relative error on the
// whole vector (|Δ| / max(|g|, floor)). f must be smooth within ±h of x.
void expect_matches_finite_differences(std::vector<double> x, const std::function<double(const std::vector<double>&)>& f,
                                       const std::vector<double>& analytic, double h = 1e-6, double tol = 1e-6) {
  ASSERT_EQ(x.size(), analytic.size());
  double max_err = 0, max_g = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double x0 = x[i];
    x[i] = x0 + h;
    const double fp = f(x);
    x[i] = x0 - h;
    const double fm = f(x);
    x[i] = x0;
    const double numeric = (fp - fm) / (2 * h);
    max_err = std::max(max_err, std::abs(numeric - analytic[i]));
    max_g = std::max(max_g, std::abs(analytic[i]));
  }
  ASSERT_GT(max_g, 0.0) << "the gradient is identically zero: the test checks nothing";
  EXPECT_LT(max_err / max_g, tol) << "max |numeric - analytic| = " << max_err << ", max |analytic| = " << max_g;
}

TEST(Regularizers, MaskedAlphaPenaltyGradientMatchesFiniteDifferences) {
  const std::vector<double> alpha = uniform_values(64, 0, 1, 11);
  std::vector<double> mask = uniform_values(64, 0, 1, 12);
  for (double& m : mask) m = m > 0.6 ? 1.0 : 0.0;
  std::vector<double> g(alpha.size(), 0.0);
  const double value = masked_alpha_penalty<double>(alpha.data(), mask.data(), alpha.size(), g.data(), 3.0);
  double expect = 0;
  int count = 0;
  for (size_t i = 0; i < alpha.size(); ++i)
    if (mask[i] > 0.5) expect += alpha[i] * alpha[i], ++count;
  ASSERT_GT(count, 0);
  EXPECT_NEAR(value, expect / count, 1e-12);
  for (size_t i = 0; i < alpha.size(); ++i) {
    if (mask[i] <= 0.5) {
      EXPECT_EQ(g[i], 0.0) << "a pixel outside the mask got a gradient";
    }
  }
  for (double& v : g) v /= 3.0;
  expect_matches_finite_differences(
      alpha, [&](const std::vector<double>& x) { return masked_alpha_penalty<double>(x.data(), mask.data(), x.size(), nullptr, 1.0); },
      g);
}

TEST(Regularizers, DepthPriorGradientMatchesFiniteDifferences) {
  const size_t n = 80;
  const std::vector<double> depth = uniform_values(n, 0.5, 4.0, 21), alpha = uniform_values(n, 0.2, 1.0, 22);
  std::vector<double> target = uniform_values(n, 1.0, 3.0, 23);
  for (size_t i = 0; i < n; i += 3) target[i] = 0;  // no stereo depth there
  std::vector<double> gd(n, 0.0), ga(n, 0.0);
  const double value = depth_prior_l1<double>(depth.data(), alpha.data(), target.data(), n, gd.data(), ga.data(), 2.0);
  EXPECT_GT(value, 0.0);
  for (size_t i = 0; i < n; i += 3) {
    EXPECT_EQ(gd[i], 0.0);
    EXPECT_EQ(ga[i], 0.0);
  }
  for (double& v : gd) v /= 2.0;
  for (double& v : ga) v /= 2.0;
  // |.| is smooth away from its kink; the random values keep every residual far from 0.
  expect_matches_finite_differences(
      depth, [&](const std::vector<double>& x) { return depth_prior_l1<double>(x.data(), alpha.data(), target.data(), n, nullptr, nullptr, 1.0); },
      gd);
  expect_matches_finite_differences(
      alpha, [&](const std::vector<double>& x) { return depth_prior_l1<double>(depth.data(), x.data(), target.data(), n, nullptr, nullptr, 1.0); },
      ga);
}

TEST(Regularizers, BinocularConsistencyGradientsMatchFiniteDifferences) {
  const int W = 14, H = 5;
  const size_t n = size_t(W) * H;
  const std::vector<double> shifted = uniform_values(3 * n, 0, 1, 31), photo = uniform_values(3 * n, 0, 1, 32);
  const std::vector<double> depth = uniform_values(n, 1.5, 3.0, 33), alpha = uniform_values(n, 0.6, 1.0, 34);
  const double fx_shift = 3.7;  // warps of about 1.2..2.5 pixels
  std::vector<double> gs(3 * n, 0.0), gd(n, 0.0), ga(n, 0.0);
  const double value = binocular_consistency<double>(W, H, shifted.data(), depth.data(), alpha.data(), photo.data(),
                                                     fx_shift, 0.5, gs.data(), gd.data(), ga.data(), 1.0);
  EXPECT_GT(value, 0.0);
  auto f_shifted = [&](const std::vector<double>& x) {
    return binocular_consistency<double>(W, H, x.data(), depth.data(), alpha.data(), photo.data(), fx_shift, 0.5,
                                         nullptr, nullptr, nullptr, 1.0);
  };
  auto f_depth = [&](const std::vector<double>& x) {
    return binocular_consistency<double>(W, H, shifted.data(), x.data(), alpha.data(), photo.data(), fx_shift, 0.5,
                                         nullptr, nullptr, nullptr, 1.0);
  };
  auto f_alpha = [&](const std::vector<double>& x) {
    return binocular_consistency<double>(W, H, shifted.data(), depth.data(), x.data(), photo.data(), fx_shift, 0.5,
                                         nullptr, nullptr, nullptr, 1.0);
  };
  expect_matches_finite_differences(shifted, f_shifted, gs);
  expect_matches_finite_differences(depth, f_depth, gd, 1e-7, 1e-5);
  expect_matches_finite_differences(alpha, f_alpha, ga, 1e-7, 1e-5);
  // The right depth explains the shifted image exactly: at z = 2 and fx_shift = 4 the warp is
  // u' = x - 2, so the photo moved 2 pixels left warps back onto the photo.
  std::vector<double> copy(3 * n), flat(n, 2.0), ones(n, 1.0);
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x)
      for (int c = 0; c < 3; ++c)
        copy[(size_t(y) * W + size_t(x)) * 3 + size_t(c)] =
            photo[(size_t(y) * W + size_t(std::min(W - 1, x + 2))) * 3 + size_t(c)];
  EXPECT_NEAR(binocular_consistency<double>(W, H, copy.data(), flat.data(), ones.data(), photo.data(), 4.0, 0.5, nullptr,
                                            nullptr, nullptr, 1.0),
              0.0, 1e-12);
}

TEST(Regularizers, OpacityEntropyGradientMatchesFiniteDifferences) {
  const std::vector<double> logits = uniform_values(50, -6, 6, 1);
  std::vector<double> g(logits.size(), 0.0);
  const double value = opacity_entropy<double>(logits.data(), logits.size(), g.data(), 2.0);
  // Entropy of a Bernoulli is in (0, ln 2].
  EXPECT_GT(value, 0.0);
  EXPECT_LE(value, std::log(2.0));
  for (double& v : g) v /= 2.0;  // weight 2 scales the gradient
  expect_matches_finite_differences(
      logits, [](const std::vector<double>& x) { return opacity_entropy<double>(x.data(), x.size(), nullptr, 1.0); }, g);
  // Largest at o = 0.5, zero gradient there; pushes toward 0 and 1 elsewhere.
  double l0 = 0, g0 = 0, l2 = 2, g2 = 0;
  EXPECT_NEAR(opacity_entropy<double>(&l0, 1, &g0, 1.0), std::log(2.0), 1e-12);
  EXPECT_EQ(g0, 0.0);
  opacity_entropy<double>(&l2, 1, &g2, 1.0);
  EXPECT_LT(g2, 0.0);  // descent raises a logit above 0
}

TEST(Regularizers, ScaleAndAnisotropyGradientsMatchFiniteDifferences) {
  const size_t n = 40;
  std::vector<double> ls = uniform_values(n * 3, std::log(0.01), std::log(2.0), 2);
  const double limit = 0.3, ratio = 5.0;
  std::vector<double> gs(ls.size(), 0.0), ga(ls.size(), 0.0);
  const double vs = scale_penalty<double>(ls.data(), n, limit, gs.data(), 1.0);
  const double va = anisotropy_penalty<double>(ls.data(), n, ratio, ga.data(), 1.0);
  EXPECT_GT(vs, 0.0);
  EXPECT_GT(va, 0.0);
  expect_matches_finite_differences(
      ls, [&](const std::vector<double>& x) { return scale_penalty<double>(x.data(), n, limit, nullptr, 1.0); }, gs);
  expect_matches_finite_differences(
      ls, [&](const std::vector<double>& x) { return anisotropy_penalty<double>(x.data(), n, ratio, nullptr, 1.0); },
      ga);
  // Within the limits: no penalty at all.
  std::vector<double> small(6, std::log(0.1)), g0(6, 0.0);
  EXPECT_EQ(scale_penalty<double>(small.data(), 2, limit, g0.data(), 1.0), 0.0);
  EXPECT_EQ(anisotropy_penalty<double>(small.data(), 2, ratio, g0.data(), 1.0), 0.0);
  EXPECT_EQ(g0, std::vector<double>(6, 0.0));
}

TEST(Regularizers, EdgeAwareDepthSmoothnessGradientMatchesFiniteDifferences) {
  const int w = 13, h = 9;
  const std::vector<double> depth = uniform_values(size_t(w * h), 1.0, 3.0, 3);
  const std::vector<double> guide = uniform_values(size_t(w * h * 3), 0.0, 1.0, 4);
  std::vector<double> g(depth.size(), 0.0);
  const double v = edge_aware_depth_smoothness<double>(w, h, depth.data(), guide.data(), 0.5, 10.0, g.data(), 1.0);
  EXPECT_GT(v, 0.0);
  expect_matches_finite_differences(
      depth,
      [&](const std::vector<double>& x) {
        return edge_aware_depth_smoothness<double>(w, h, x.data(), guide.data(), 0.5, 10.0, nullptr, 1.0);
      },
      g);
}

TEST(Regularizers, DepthSmoothnessIgnoresDepthStepsAtImageEdges) {
  // Depth jumps where the guide image has an edge cost far less than where it is flat.
  const int w = 16, h = 8;
  std::vector<double> depth(size_t(w * h)), flat(size_t(w * h * 3), 0.5), edged = flat;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      depth[size_t(y * w + x)] = x < 8 ? 1.0 : 2.0;
      if (x >= 8)
        for (int c = 0; c < 3; ++c) edged[size_t((y * w + x) * 3 + c)] = 1.0;
    }
  const double on_edge = edge_aware_depth_smoothness<double>(w, h, depth.data(), edged.data(), 1.0, 10.0, nullptr, 1);
  const double on_flat = edge_aware_depth_smoothness<double>(w, h, depth.data(), flat.data(), 1.0, 10.0, nullptr, 1);
  EXPECT_GT(on_flat, 0.0);
  EXPECT_NEAR(on_edge / on_flat, std::exp(-5.0), 1e-12);
}

TEST(Regularizers, EdgeAwareDepthCurvatureGradientMatchesFiniteDifferences) {
  const int w = 11, h = 8;
  const std::vector<double> depth = uniform_values(size_t(w * h), 1.0, 3.0, 13);
  const std::vector<double> guide = uniform_values(size_t(w * h * 3), 0.0, 1.0, 14);
  std::vector<double> g(depth.size(), 0.0);
  const double v = edge_aware_depth_curvature<double>(w, h, depth.data(), guide.data(), 0.5, 10.0, g.data(), 1.0);
  EXPECT_GT(v, 0.0);
  expect_matches_finite_differences(
      depth,
      [&](const std::vector<double>& x) {
        return edge_aware_depth_curvature<double>(w, h, x.data(), guide.data(), 0.5, 10.0, nullptr, 1.0);
      },
      g);
}

TEST(Regularizers, DepthCurvatureIsZeroOnAPlaneAndCostsOnABend) {
  // A tilted plane (depth linear in x and y) costs nothing, though the first-order term
  // charges it; a fold in the middle of a flat guide does cost.
  const int w = 12, h = 9;
  std::vector<double> plane(size_t(w * h)), fold(size_t(w * h)), flat(size_t(w * h * 3), 0.5);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      plane[size_t(y * w + x)] = 2.0 + 0.1 * x - 0.05 * y;
      fold[size_t(y * w + x)] = 2.0 + 0.1 * std::abs(x - 6);
    }
  EXPECT_NEAR(edge_aware_depth_curvature<double>(w, h, plane.data(), flat.data(), 1.0, 10.0, nullptr, 1), 0.0, 1e-12);
  EXPECT_GT(edge_aware_depth_smoothness<double>(w, h, plane.data(), flat.data(), 1.0, 10.0, nullptr, 1), 0.0);
  const double bend = edge_aware_depth_curvature<double>(w, h, fold.data(), flat.data(), 1.0, 10.0, nullptr, 1);
  // One run in a row of ten straddles the fold (|-0.2| there), in each of the 9 rows.
  const double runs = double((w - 2) * h + w * (h - 2));
  EXPECT_NEAR(bend, 9 * 0.2 / runs, 1e-9);
}

TEST(Regularizers, MaskedPhotometricGradientMatchesFiniteDifferences) {
  const int w = 14, h = 11, c = 3;
  const std::vector<double> a = uniform_values(size_t(w * h * c), 0, 1, 5);
  std::vector<double> b = uniform_values(a.size(), 0, 1, 6);
  for (size_t i = 0; i < b.size(); ++i) b[i] = 0.6 * a[i] + 0.4 * b[i];
  const std::vector<double> mask = uniform_values(size_t(w * h), 0, 1, 7);
  const double lambda = 0.2;
  auto loss = [&](const std::vector<double>& x, double* grad) {
    const double l1 = l1_loss_raw<double>(w, h, c, x.data(), b.data(), grad, 1 - lambda, false, mask.data());
    const double s = ssim_train_raw<double>(w, h, c, x.data(), b.data(), grad, -lambda, true, mask.data());
    double mw = 0;
    for (double m : mask) mw += m;
    return (1 - lambda) * l1 + lambda * (mw / double(mask.size()) - s);
  };
  std::vector<double> g(a.size());
  loss(a, g.data());
  expect_matches_finite_differences(a, [&](const std::vector<double>& x) { return loss(x, nullptr); }, g, 1e-6, 1e-5);
}

Image image_from(const std::vector<double>& v, int w, int h, int c) {
  Image im(w, h, c);
  for (size_t i = 0; i < v.size(); ++i) im.pixels[i] = float(v[i]);
  return im;
}

TEST(Regularizers, MaskedLossWithFullMaskIsThePhotometricLossAndZeroMaskSilencesPixels) {
  const int w = 20, h = 15;
  const Image a = image_from(uniform_values(size_t(w * h * 3), 0, 1, 8), w, h, 3);
  const Image b = image_from(uniform_values(size_t(w * h * 3), 0, 1, 9), w, h, 3);
  const PhotometricLoss plain = photometric_loss(a, b);
  const PhotometricLoss full = masked_photometric_loss(a, b, Image(w, h, 1, 1.0f));
  EXPECT_NEAR(full.value, plain.value, 1e-6);
  for (size_t i = 0; i < plain.grad.pixels.size(); ++i) EXPECT_NEAR(full.grad.pixels[i], plain.grad.pixels[i], 1e-9);
  // Left half masked out: L1 gradient vanishes there (SSIM's window reaches 5 px across).
  Image half(w, h, 1, 1.0f);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w / 2; ++x) half.at(x, y, 0) = 0.0f;
  const PhotometricLoss masked = masked_photometric_loss(a, b, half);
  EXPECT_LT(masked.value, plain.value);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w / 2 - 6; ++x)
      for (int c = 0; c < 3; ++c) EXPECT_EQ(masked.grad.at(x, y, c), 0.0f);
}

TEST(Regularizers, CoRegularizationGradientOfEachFieldIsTheLossWithItsRenderFirst) {
  // The trainer takes field B's gradient of L(A, B) as the gradient of L(B, A) w.r.t. its first
  // argument (L1 and SSIM are symmetric). Check that against finite differences in B.
  const int w = 12, h = 10, c = 3;
  const std::vector<double> a = uniform_values(size_t(w * h * c), 0, 1, 10);
  std::vector<double> b = uniform_values(a.size(), 0, 1, 11);
  for (size_t i = 0; i < b.size(); ++i) b[i] = 0.5 * a[i] + 0.5 * b[i];
  auto loss_ab = [&](const std::vector<double>& bb) {
    return 0.8 * l1_loss_raw<double>(w, h, c, a.data(), bb.data(), nullptr, 1.0, false) +
           0.2 * (1 - ssim_train_raw<double>(w, h, c, a.data(), bb.data(), nullptr, 1.0, false));
  };
  std::vector<double> g(b.size());
  l1_loss_raw<double>(w, h, c, b.data(), a.data(), g.data(), 0.8, false);
  ssim_train_raw<double>(w, h, c, b.data(), a.data(), g.data(), -0.2, true);
  expect_matches_finite_differences(b, loss_ab, g, 1e-6, 1e-5);
}

Camera camera_at(const glm::vec3& centre, const glm::quat& q) {
  Camera c;
  c.width = 64;
  c.height = 48;
  c.fx = c.fy = 50;
  c.cx = 32;
  c.cy = 24;
  c.R = glm::mat3_cast(q);
  c.t = -(c.R * centre);
  return c;
}

TEST(PseudoViews, CameraTowardInterpolatesPoseBetweenEnds) {
  const Camera a = camera_at({0, 0, 0}, glm::angleAxis(0.0f, glm::vec3(0, 1, 0)));
  const Camera b = camera_at({2, 0, 1}, glm::angleAxis(0.6f, glm::vec3(0, 1, 0)));
  const Camera t0 = camera_toward(a, b, 0.0f), t1 = camera_toward(a, b, 1.0f), th = camera_toward(a, b, 0.5f);
  EXPECT_LT(glm::length(t0.center() - a.center()), 1e-5f);
  EXPECT_LT(glm::length(t1.center() - b.center()), 1e-5f);
  EXPECT_LT(glm::length(th.center() - glm::vec3(1, 0, 0.5f)), 1e-5f);
  const glm::mat3 expected = glm::mat3_cast(glm::angleAxis(0.3f, glm::vec3(0, 1, 0)));
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      EXPECT_NEAR(th.R[i][j], expected[i][j], 1e-5f);
      EXPECT_NEAR(t1.R[i][j], b.R[i][j], 1e-5f);
    }
  EXPECT_EQ(th.width, a.width);
  EXPECT_EQ(th.fx, a.fx);
}

TEST(PseudoViews, InterpolatedCamerasLieBetweenNearestTrainPairs) {
  std::vector<Camera> train = {camera_at({0, 0, 0}, glm::quat(1, 0, 0, 0)), camera_at({1, 0, 0}, glm::quat(1, 0, 0, 0)),
                               camera_at({10, 0, 0}, glm::quat(1, 0, 0, 0))};
  const std::vector<Camera> pseudo = interpolated_pseudo_cameras(train, 200, uint64_t(5));
  ASSERT_EQ(pseudo.size(), 200u);
  EXPECT_EQ(pseudo[7].name, "pseudo_007");
  for (const Camera& c : pseudo) {
    const glm::vec3 p = c.center();
    EXPECT_NEAR(p.y, 0.0f, 1e-5f);
    // Pairs: 0-1, 1-0, 2-1 (nearest neighbours): never between 0 and 2 beyond 1's side.
    EXPECT_GE(p.x, -1e-5f);
    EXPECT_LE(p.x, 10.0f + 1e-5f);
  }
  // Same seed, same poses; too few cameras, none.
  const std::vector<Camera> again = interpolated_pseudo_cameras(train, 200, uint64_t(5));
  EXPECT_EQ(again[123].t, pseudo[123].t);
  EXPECT_TRUE(interpolated_pseudo_cameras({train[0]}, 5, uint64_t(1)).empty());
}

// A camera at `centre` looking at `target` (+z forward, +y down, world z up).
Camera looking_at(const glm::vec3& centre, const glm::vec3& target) {
  const glm::vec3 f = glm::normalize(target - centre);
  const glm::vec3 r = glm::normalize(glm::cross(f, glm::vec3(0, 0, 1)));
  const glm::vec3 d = glm::cross(f, r);
  Camera c = camera_at(centre, glm::quat(1, 0, 0, 0));
  c.R = glm::transpose(glm::mat3(r, d, f));
  c.t = -(c.R * centre);
  return c;
}

TEST(PseudoViews, TiltAboutTheRigFocusGoesAboveAndBelowTheArc) {
  // Three cameras on a horizontal arc of radius 3 at height 1, 0.25 rad apart, all looking
  // at (0.2, -0.1, 0.3).
  const glm::vec3 target(0.2f, -0.1f, 0.3f);
  std::vector<Camera> rig;
  for (float a : {-0.25f, 0.0f, 0.25f}) rig.push_back(looking_at(target + glm::vec3(3 * std::sin(a), -3 * std::cos(a), 1), target));
  glm::vec3 focus;
  ASSERT_TRUE(rig_focus(rig, focus));
  EXPECT_LT(glm::length(focus - target), 1e-3f);
  const float spacing = mean_neighbour_angle(rig, focus);
  EXPECT_NEAR(spacing, 2 * std::asin(3 * std::sin(0.125f) / std::sqrt(10.0f)), 1e-3f);
  std::vector<Camera> tilted(40, rig[1]);
  Rng rng(9);
  tilt_about(tilted, focus, 2 * spacing, rng);
  float lowest = 1e9f, highest = -1e9f;
  for (const Camera& c : tilted) {
    // Same distance to the focus, which stays on the optical axis (the image centre).
    EXPECT_NEAR(glm::length(c.center() - focus), glm::length(rig[1].center() - focus), 1e-4f);
    const glm::vec3 x = c.to_camera(focus);
    EXPECT_NEAR(x.x / x.z, 0.0f, 1e-4f);
    EXPECT_NEAR(x.y / x.z, 0.0f, 1e-4f);
    // Tilt about the right axis: the centre moves in the vertical plane of the middle camera.
    EXPECT_NEAR(c.center().x, rig[1].center().x, 1e-4f);
    const float elevation = std::asin((c.center().z - focus.z) / glm::length(c.center() - focus));
    lowest = std::min(lowest, elevation);
    highest = std::max(highest, elevation);
  }
  const float e0 = std::asin(1.0f / std::sqrt(10.0f));  // the rig's own elevation
  EXPECT_LT(lowest, e0 - spacing);
  EXPECT_GT(highest, e0 + spacing);
  EXPECT_GE(lowest, e0 - 2 * spacing - 1e-4f);
  EXPECT_LE(highest, e0 + 2 * spacing + 1e-4f);
  // A forward-facing capture (parallel axes) has no focus.
  std::vector<Camera> forward = {camera_at({0, 0, 0}, glm::quat(1, 0, 0, 0)), camera_at({1, 0, 0}, glm::quat(1, 0, 0, 0))};
  EXPECT_FALSE(rig_focus(forward, focus));
}

TEST(Unpooling, NearestDistancesMatchBruteForceAndCoPruningKeepsCounterparts) {
  const std::vector<double> pa = uniform_values(300 * 3, -1, 1, 12), pb = uniform_values(200 * 3, -1, 1, 13);
  const std::vector<float> a(pa.begin(), pa.end()), b(pb.begin(), pb.end());
  const std::vector<float> d = nearest_distances(a, b);
  const std::vector<float> self = nearest_distances(a, a, true);
  for (size_t i = 0; i < 300; ++i) {
    float best = std::numeric_limits<float>::max(), best_self = best;
    for (size_t j = 0; j < 200; ++j)
      best = std::min(best, glm::length(glm::vec3(a[i * 3], a[i * 3 + 1], a[i * 3 + 2]) -
                                        glm::vec3(b[j * 3], b[j * 3 + 1], b[j * 3 + 2])));
    for (size_t j = 0; j < 300; ++j)
      if (j != i)
        best_self = std::min(best_self, glm::length(glm::vec3(a[i * 3], a[i * 3 + 1], a[i * 3 + 2]) -
                                                    glm::vec3(a[j * 3], a[j * 3 + 1], a[j * 3 + 2])));
    EXPECT_NEAR(d[i], best, 1e-5f);
    EXPECT_NEAR(self[i], best_self, 1e-5f);
  }
  GaussianModel f, g;
  f.sh_degree = g.sh_degree = 0;
  f.resize(3);
  g.resize(2);
  f.means = {0, 0, 0, 1, 0, 0, 5, 5, 5};  // the third has no counterpart
  g.means = {0.05f, 0, 0, 1, 0.05f, 0};
  EXPECT_EQ(co_pruning_keep(f, g, 0.1f), (std::vector<bool>{true, true, false}));
}

TEST(Unpooling, GrowsMidpointsOnlyInSparseRegions) {
  // A dense cluster plus one isolated pair: the isolated Gaussians score far above the median.
  GaussianModel m;
  m.sh_degree = 0;
  const std::vector<double> cluster = uniform_values(100 * 3, 0, 0.1, 14);
  m.resize(102);
  for (size_t i = 0; i < 300; ++i) m.means[i] = float(cluster[i]);
  m.means[300] = 5;
  m.means[303] = 6;
  for (size_t i = 0; i < 102; ++i) m.opacities[i] = float(i);
  AdamState adam;
  adam.reset_like(m);
  UnpoolingOptions o;
  o.neighbours = 1;
  const size_t added = unpool(m, adam, o);
  ASSERT_EQ(added, 2u);  // one edge from each isolated Gaussian to the other
  ASSERT_EQ(m.size(), 104u);
  EXPECT_FLOAT_EQ(m.means[102 * 3], 5.5f);
  EXPECT_FLOAT_EQ(m.means[103 * 3], 5.5f);
  EXPECT_FLOAT_EQ(m.opacities[102], 101.0f);  // a copy of the neighbour
  EXPECT_EQ(adam.m.size(), 104u);
  EXPECT_EQ(adam.v.rotations[103 * 4], 0.0f);
}

TEST(AngularScaleCap, ClampsEachAxisToItsShareOfTheNearestCameraDistance) {
  // Two cameras; Gaussian 0 sits 2 from the nearer one, Gaussian 1 is 10 from both.
  const std::vector<glm::vec3> centers = {{0, 0, 0}, {4, 0, 0}};
  const std::vector<float> means = {2, 0, 0, 0, 10, 0};
  std::vector<float> log_scales = {std::log(0.5f), std::log(0.05f), std::log(0.3f),  // cap 0.2
                                   std::log(0.5f), std::log(0.5f), std::log(0.5f)};  // cap 1.0
  const std::vector<float> before = log_scales;
  EXPECT_EQ(clamp_angular_scales(means.data(), log_scales.data(), 2, centers, 0.1f), 1u);
  EXPECT_NEAR(std::exp(log_scales[0]), 0.2f, 1e-5f);
  EXPECT_EQ(log_scales[1], before[1]);  // below the cap: untouched
  EXPECT_NEAR(std::exp(log_scales[2]), 0.2f, 1e-5f);
  for (int a = 3; a < 6; ++a) EXPECT_EQ(log_scales[size_t(a)], before[size_t(a)]);
  // Off: a zero ratio or no cameras changes nothing.
  EXPECT_EQ(clamp_angular_scales(means.data(), log_scales.data(), 2, {}, 0.1f), 0u);
  std::vector<float> again = before;
  EXPECT_EQ(clamp_angular_scales(means.data(), again.data(), 2, centers, 0.0f), 0u);
  EXPECT_EQ(again, before);
}

}  // namespace
}  // namespace sp
