#pragma once
// Where a projected Gaussian may colour pixels: the tile and pixel bounds every backend
// uses, written once. The CPU tile rasterizer (tile_rasterizer_cpu.cpp, float and double)
// and the CUDA rasterizer (cuda/tile_rasterizer.cu, device code) call these functions; the
// Vulkan projection (shaders/project.comp, GLSL, which cannot include this header) mirrors
// them and tests/display/test_projection_pin.cpp pins it to them, constants included.
// Pipeline: docs/rasterizer.md.
//
//   3σ box     tiles floor((m − r)/16) … ceil((m + r)/16) − 1 of mean m ± radius r, clamped
//              to the image's tiles; empty: the Gaussian is culled and its radius is 0 (INRIA)
//   α cutoff   α = o e^−q >= 1/255 needs q <= q_max = ln(255 o) (+ kCullMargin, so rounding
//              in q and exp never culls a pixel the blending test would accept)
//   pixel box  the q <= q_max ellipse's bounding box: half extents sqrt(2 q_max Σ2D_xx),
//              sqrt(2 q_max Σ2D_yy) around the mean; pixel centres at i + 0.5
//   tiles      the 3σ box narrowed to the pixel box's tiles; then, per tile, whether the
//              ellipse meets one of its pixel centres (EllipseTileTestT, exact)
#include <cmath>
#include <limits>

#include "engine/render/project.h"  // SP_HD, Sym2T, Vec2T

namespace sp {

// ---- the contract's constants --------------------------------------------------------

inline constexpr int kTileSize = 16;      // tiles are kTileSize x kTileSize pixels
inline constexpr double kCullMargin = 0.01;  // added to ln(255 o) when culling tiles and rows
inline constexpr double kMinAlphaReciprocal = 255;  // α < 1/255 is not blended

// Blending tests (rasterizer.h): α = min(kMaxAlpha, o e^−q), skipped below kMinAlpha; a pixel
// stops at the Gaussian that would take T below kMinTransmittance; beyond q = kFarExponent,
// e^−q is taken as exactly 0 (e^−30 ~ 1e-13, far below the α threshold).
template <class T>
struct BlendConstants {
  static constexpr T kMaxAlpha = T(0.99);
  static constexpr T kMinAlpha = T(1) / T(kMinAlphaReciprocal);
  static constexpr T kMinTransmittance = T(1e-4);
  static constexpr T kFarExponent = T(30);
};

// ---- integer bounds ------------------------------------------------------------------

// floor(v) and ceil(v) clamped into [lo, hi], by integer conversion (std::floor and
// std::ceil are library calls on the baseline x86-64 ISA). NaN gives lo.
template <class T>
SP_HD inline int floor_clamped(T v, int lo, int hi) {
  if (!(v > T(lo))) return lo;
  if (v >= T(hi)) return hi;
  const int i = int(v);  // v in (lo, hi): truncation, then one step down for negatives
  return T(i) > v ? i - 1 : i;
}
template <class T>
SP_HD inline int ceil_clamped(T v, int lo, int hi) {
  if (!(v > T(lo))) return lo;
  if (v >= T(hi)) return hi;
  const int i = int(v);
  return T(i) < v ? i + 1 : i;
}

// Tiles [x0, x1) x [y0, y1).
struct TileRect {
  int x0 = 0, x1 = 0, y0 = 0, y1 = 0;
  SP_HD bool empty() const { return x0 >= x1 || y0 >= y1; }
};

SP_HD inline int tile_count(int pixels) { return (pixels + kTileSize - 1) / kTileSize; }

// The tiles meeting the open 3σ box mean ± radius, clamped to a width x height image.
template <class T>
SP_HD TileRect radius_tile_box(const Vec2T<T>& mean, int radius, int width, int height) {
  const T r = T(radius);
  const int tiles_x = tile_count(width), tiles_y = tile_count(height);
  TileRect b;
  b.x0 = floor_clamped((mean.x - r) / T(kTileSize), 0, tiles_x);
  b.x1 = ceil_clamped((mean.x + r) / T(kTileSize), 0, tiles_x);
  b.y0 = floor_clamped((mean.y - r) / T(kTileSize), 0, tiles_y);
  b.y1 = ceil_clamped((mean.y + r) / T(kTileSize), 0, tiles_y);
  return b;
}

// q_max = ln(255 o) + kCullMargin: beyond it α = o e^−q < 1/255. Not positive: never visible.
template <class T>
SP_HD T alpha_cutoff_exponent(T opacity) {
  return std::log(T(kMinAlphaReciprocal) * opacity) + T(kCullMargin);
}

// ---- the whole footprint ---------------------------------------------------------------

enum class Footprint : int {
  OffImage = 1,  // the 3σ box meets no tile of the image: culled, radius reported as 0
  Faint = 2,     // α reaches 1/255 at no pixel centre's tile: radius reported, no tile entries
  Listed = 3,    // `tiles` may hold entries (each tile still passes EllipseTileTestT first)
};

template <class T>
struct SplatFootprintT {
  Footprint kind = Footprint::OffImage;
  TileRect tiles;                   // 3σ box ∩ the pixel box's tiles (Listed)
  int col0 = 0, col1 = -1;          // pixel box of the q <= q_max ellipse, inclusive, in the image
  int row0 = 0, row1 = -1;          //   (set when q_max > 0)
  T q_max = 0;                      // alpha_cutoff_exponent(opacity) (unless OffImage)
};

// Footprint of a Gaussian projected to `mean` (pixels) with 2D covariance `cov2d` (the 0.3
// low-pass included), screen radius `radius` and opacity `opacity` (after the sigmoid).
template <class T>
SP_HD SplatFootprintT<T> splat_footprint(const Vec2T<T>& mean, int radius, const Sym2T<T>& cov2d, T opacity, int width,
                                         int height) {
  SplatFootprintT<T> f;
  f.tiles = radius_tile_box(mean, radius, width, height);
  if (f.tiles.empty()) return f;
  f.kind = Footprint::Faint;
  f.q_max = alpha_cutoff_exponent(opacity);
  if (!(f.q_max > T(0))) return f;
  const T ex = std::sqrt(T(2) * f.q_max * cov2d.a), ey = std::sqrt(T(2) * f.q_max * cov2d.c);
  f.col0 = ceil_clamped(mean.x - ex - T(0.5), 0, width);
  f.col1 = floor_clamped(mean.x + ex - T(0.5), -1, width - 1);
  f.row0 = ceil_clamped(mean.y - ey - T(0.5), 0, height);
  f.row1 = floor_clamped(mean.y + ey - T(0.5), -1, height - 1);
  if (f.col0 > f.col1 || f.row0 > f.row1) return f;
  f.tiles.x0 = f.tiles.x0 > f.col0 / kTileSize ? f.tiles.x0 : f.col0 / kTileSize;
  f.tiles.x1 = f.tiles.x1 < f.col1 / kTileSize + 1 ? f.tiles.x1 : f.col1 / kTileSize + 1;
  f.tiles.y0 = f.tiles.y0 > f.row0 / kTileSize ? f.tiles.y0 : f.row0 / kTileSize;
  f.tiles.y1 = f.tiles.y1 < f.row1 / kTileSize + 1 ? f.tiles.y1 : f.row1 / kTileSize + 1;
  if (!f.tiles.empty()) f.kind = Footprint::Listed;
  return f;
}

// The pixel rectangle [x0, x1) x [y0, y1) of a Listed footprint: its pixel box within its
// tiles. The Vulkan quad covers exactly these pixels (shaders/project.comp's `rect`).
struct PixelRect {
  int x0 = 0, x1 = 0, y0 = 0, y1 = 0;
};
template <class T>
SP_HD PixelRect footprint_pixels(const SplatFootprintT<T>& f) {
  auto mx = [](int a, int b) { return a > b ? a : b; };
  auto mn = [](int a, int b) { return a < b ? a : b; };
  return {mx(f.col0, f.tiles.x0 * kTileSize), mn(f.col1 + 1, f.tiles.x1 * kTileSize),
          mx(f.row0, f.tiles.y0 * kTileSize), mn(f.row1 + 1, f.tiles.y1 * kTileSize)};
}

// ---- the exact ellipse / tile test ---------------------------------------------------------

// Whether some pixel centre of tile (tx, ty) inside the image has q = ½ dᵀ C d <= q_max, d
// the offset from the mean, C the conic. Exact for a positive definite C: unless the box of
// pixel centres holds the mean, the minimum of q over it lies on an edge, where it is the
// clamped minimizer of a 1D quadratic.
template <class T>
struct EllipseTileTestT {
  SP_HD EllipseTileTestT(T mean_x, T mean_y, T conic_a, T conic_b, T conic_c, T q_max)
      : mean_x(mean_x), mean_y(mean_y), a(conic_a), b(conic_b), c(conic_c), q_max(q_max),
        b_over_a(conic_b / conic_a), b_over_c(conic_b / conic_c) {}
  SP_HD bool operator()(int tx, int ty, int width, int height) const {
    const int xe = (tx + 1) * kTileSize, ye = (ty + 1) * kTileSize;
    const T x0 = T(tx * kTileSize) + T(0.5) - mean_x;
    const T x1 = T(xe < width ? xe : width) - T(0.5) - mean_x;
    const T y0 = T(ty * kTileSize) + T(0.5) - mean_y;
    const T y1 = T(ye < height ? ye : height) - T(0.5) - mean_y;
    if (x0 <= T(0) && x1 >= T(0) && y0 <= T(0) && y1 >= T(0)) return true;
    // min(best, v) as std::min(best, v) evaluates it (a NaN v leaves best), in this order.
    T best = std::numeric_limits<T>::infinity();
    auto take = [&best](T v) { best = v < best ? v : best; };
    take(q(x0, clamp(-b_over_c * x0, y0, y1)));
    take(q(x1, clamp(-b_over_c * x1, y0, y1)));
    take(q(clamp(-b_over_a * y0, x0, x1), y0));
    take(q(clamp(-b_over_a * y1, x0, x1), y1));
    return best <= q_max;
  }
  SP_HD T q(T dx, T dy) const { return T(0.5) * (a * dx * dx + c * dy * dy) + b * dx * dy; }
  // std::clamp's result, NaN included (v < lo, then hi < v).
  SP_HD static T clamp(T v, T lo, T hi) { return v < lo ? lo : (hi < v ? hi : v); }

  T mean_x, mean_y, a, b, c, q_max, b_over_a, b_over_c;
};

}  // namespace sp
