#pragma once
// Lens distortion (COLMAP's models and formulas) and its removal at image load time, so
// every camera the engine sees is a pinhole (engine/core/camera.h).
//
// Choice of output camera: the undistorted image keeps the source's size and pinhole
// intrinsics (fx, fy, cx, cy). COLMAP's image_undistorter instead rescales the focal length
// so that no blank pixels appear (or all source pixels stay). Keeping the intrinsics is
// simpler and exact for the poses; the price: with barrel distortion (k < 0, e.g. the
// statue) the outermost source pixels fall outside the output, and with pincushion
// distortion (k > 0) output corners map outside the source and repeat the edge pixel
// (UndistortMap::outside counts them; callers log it when it matters).
#include <cstddef>
#include <string>
#include <vector>

#include "engine/core/image.h"

namespace sp {

struct Distortion {
  // The COLMAP camera models with a pinhole projection plus polynomial distortion.
  enum class Model { None, SimpleRadial, Radial, OpenCV, FullOpenCV };
  Model model = Model::None;
  // COLMAP's coefficient names; those a model lacks stay zero.
  double k1 = 0, k2 = 0, p1 = 0, p2 = 0, k3 = 0, k4 = 0, k5 = 0, k6 = 0;

  bool is_none() const;
  std::string describe() const;  // e.g. "SIMPLE_RADIAL k=-0.5517"
  // Normalized image coordinates (x/z, y/z): undistorted -> distorted (COLMAP's forward model).
  void distort(double u, double v, double& ud, double& vd) const;
  // Inverse of distort by Newton iterations; false if it did not converge.
  bool undistort(double ud, double vd, double& u, double& v) const;
};

// For each pixel of the undistorted (pinhole) image, where to sample the distorted image.
struct UndistortMap {
  int width = 0, height = 0;
  // Per output pixel (row-major), x then y of the source position in pixel-index units
  // (0 = the centre of the first pixel), ready for bilinear sampling.
  std::vector<float> source;
  size_t outside = 0;  // output pixels whose source lies outside the image (edge-clamped)
  size_t bytes() const { return source.size() * sizeof(float); }
};

// Intrinsics in pixels at the image's size, corner origin (COLMAP's convention = ours).
UndistortMap make_undistort_map(int width, int height, double fx, double fy, double cx, double cy,
                                const Distortion& distortion);
// Bilinear resampling of `distorted` through the map; same channel count. The image must
// have the map's size (Internal error otherwise).
Image undistort_image(const Image& distorted, const UndistortMap& map);

}  // namespace sp
