#pragma once
// The multi-threaded CPU tile rasterizer: the reference implementation of the contract in
// rasterizer.h (forward and backward), templated on the scalar so gradient tests can run in
// double. make_cpu_rasterizer() wraps the float instance. Pipeline, determinism and
// conventions: docs/rasterizer.md.
//
//   project (per Gaussian, parallel) → bin into the 16x16 tiles the 3σ box touches, dropping
//   tiles where α < 1/255 everywhere → per-tile lists sorted by depth (ties by index) →
//   blend tiles in parallel → backward: per pixel back to front, gradients accumulated per
//   (tile, list entry), reduced per Gaussian in tile order, then chained through projection
//   and SH per Gaussian. No atomics: results are bit-identical for any thread count.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/core/camera.h"
#include "engine/render/rasterizer.h"
#include "engine/render/tile_bounds.h"  // kTileSize, BlendConstants, the tile/ellipse bounds

namespace sp {

// One projected Gaussian as the blending loops read it (one record per list entry).
template <class T>
struct SplatT {
  T mean_x = 0, mean_y = 0;                 // pixels
  T conic_a = 0, conic_b = 0, conic_c = 0;  // q = ½(a dx² + c dy²) + b dx dy, α = min(0.99, o e^−q)
  T opacity = 0;                            // sigmoid(logit)
  T depth = 0;                              // view-space z
  T q_max = 0;                              // ln(255 o) + margin: beyond it α < 1/255
  int row_min = 0, row_max = -1;            // image rows of the q <= q_max ellipse
};

// What forward leaves for backward.
template <class T>
struct TileRenderStateT {
  int width = 0, height = 0, tiles_x = 0, tiles_y = 0;
  int sh_degree = 0;  // active degree used
  int extra_channels = 0;
  std::vector<SplatT<T>> splats;          // per Gaussian (meaningful where it has tile entries)
  std::vector<T> colors;                  // N x 3, after the clamp at 0
  std::vector<uint8_t> clamped;           // N x 3: the colour channel was clamped
  std::vector<uint32_t> tile_offsets;     // tiles + 1: tile t's list is tile_entries[o[t], o[t+1])
  std::vector<uint32_t> tile_entries;     // Gaussian ids, front to back
  // Each Gaussian's entries in one range, in tile order ("gather order"): Gaussian i owns
  // slots [gather_offsets[i], gather_offsets[i+1]); tile entry e is slot entry_slot[e].
  std::vector<uint32_t> gather_offsets;   // N + 1
  std::vector<uint32_t> entry_slot;       // per tile entry
  std::vector<T> final_transmittance;     // per pixel
  std::vector<uint32_t> last_entry;       // per pixel: 1 + list position of the last blended entry
};

// Output images (HWC, row-major), radii and state of one forward pass.
template <class T>
struct TileRenderT {
  std::vector<T> color;   // H x W x 3
  std::vector<T> depth;   // H x W
  std::vector<T> alpha;   // H x W
  std::vector<T> extras;  // H x W x E
  std::vector<int> radii; // N
  TileRenderStateT<T> state;
};

// dL/d(output images) laid out like TileRenderT; null = that output is not in the loss.
template <class T>
struct TileOutputGradientsT {
  const T* color = nullptr;
  const T* depth = nullptr;
  const T* alpha = nullptr;
  const T* extras = nullptr;
};

// The blending exponent (tests in BlendConstants, tile_bounds.h). The float instance uses a
// vectorizable exp (within a few ulp of std::exp); the double instance uses std::exp.
float blend_exp(float x);   // exp(x) for x <= 0 (inputs above 0 are treated as 0)
double blend_exp(double x);

// Calls may interleave freely (every forward's state travels in its TileRenderT), but one
// object must not be used from two threads at once: it keeps scratch buffers between calls.
template <class T>
class TileRasterizerT {
 public:
  // Widest vectors the blending kernels may use: 32 = 8 float lanes with AVX2 + FMA (and
  // AVX-512VL's registers) where the CPU has them, the default; 16 = the baseline SSE2 path.
  // The paths agree to float rounding; tests compare them.
  int max_vector_bytes = 32;
  // Whether the 32-byte path may use the AVX-512VL encoding (same arithmetic, twice the
  // registers) on CPUs that have it.
  bool allow_avx512 = true;

  // `mean2d_offsets` (N x 2 pixels, may be null) is added to every projected mean: a test hook
  // for checking dL/dmeans2d by finite differences.
  void forward(const Camera& camera, const GaussianParamsT<T>& params, const RenderOptions& options,
               TileRenderT<T>& out, const T* mean2d_offsets = nullptr);
  // `state` must come from forward() with the same camera, params and options. Resizes and
  // overwrites every array of `grads`.
  void backward(const Camera& camera, const GaussianParamsT<T>& params, const RenderOptions& options,
                const TileRenderStateT<T>& state, const TileOutputGradientsT<T>& output_grads,
                GaussianGradientsT<T>& grads);

 private:
  // Scratch reused between calls.
  struct TileSource {
    uint32_t thread = 0;  // whose buffer in thread_tiles_
    size_t first = 0;     // where the Gaussian's tile ids start in it
  };
  struct alignas(64) ThreadTiles {  // one cache line apart: each thread appends to its own
    std::vector<uint32_t> tiles;
  };
  std::vector<uint32_t> tile_count_;    // N: tiles each Gaussian colours
  std::vector<TileSource> tile_source_; // N
  std::vector<ThreadTiles> thread_tiles_;
  std::vector<uint32_t> order_, order_tmp_, keys_, keys_tmp_, tile_cursor_;
  std::vector<T> entry_grads_;          // per slot: dL/d(colour, depth, opacity, mean2d, conic, extras)
};

extern template class TileRasterizerT<float>;
extern template class TileRasterizerT<double>;

}  // namespace sp
