// The CUDA tile rasterizer: the same function as the CPU reference
// (engine/render/tile_rasterizer_cpu.cpp; pipeline in docs/rasterizer.md), on the GPU.
//
//   preprocess (per Gaussian): project + cull, SH colour, opacity, the CPU's tile coverage
//     rule (3σ box ∩ the α >= 1/255 ellipse box, then the exact ellipse/tile test); counts
//   exclusive scan of the counts (CUB) → each Gaussian's first slot, in index order
//   duplicate: key = tile << 32 | depth key, value = Gaussian index, written in index order
//   stable radix sort (CUB) → per tile, front to back, depth ties by index (as the CPU)
//   tile ranges → blend: one 16x16 block per tile, splats staged in shared memory in
//     batches, early stop when every pixel of the tile is done
//   backward: per pixel back to front (T recovered by division, as the CPU), per-Gaussian
//     sums by warp reduction then atomicAdd, then per Gaussian through SH and projection.
//
// CudaDeviceRasterizer (cuda_device_rasterizer.h) runs all of this on device pointers; it is
// what the GPU-resident trainer calls. The Rasterizer interface (host pointers) wraps it:
// forward() uploads the parameters and downloads the images, backward() uploads dL/d(outputs)
// and downloads the gradients.
//
// Not bit-identical to the CPU: nvcc contracts multiply-adds into FMAs and expf differs from
// the CPU's polynomial exp by a few ulp, so a pixel whose α sits within rounding of 1/255
// (or whose T within rounding of 1e-4) may decide the other way. The tests' tolerances
// (relative L2 1e-5 forward, 1e-4 gradients) allow for that.
#include <cuda_runtime.h>

#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_scan.cuh>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "cuda/cuda_device_rasterizer.h"
#include "cuda/cuda_rasterizer.h"
#include "cuda/device_buffer.cuh"
#include "engine/core/error.h"
#include "engine/render/project.h"
#include "engine/render/sh.h"
#include "engine/render/tile_bounds.h"  // kTileSize, BlendConstants, the CPU's tile/ellipse bounds

namespace sp {

namespace {

constexpr int kTile = kTileSize;
constexpr int kBlock = kTile * kTile;  // threads per tile block; also the shared batch size
constexpr int kGradSlots = 10;          // colour (3), depth, opacity, mean2d (2), conic (3), then extras
constexpr float kMaxAlpha = BlendConstants<float>::kMaxAlpha;
constexpr float kMinAlpha = BlendConstants<float>::kMinAlpha;
constexpr float kMinTransmittance = BlendConstants<float>::kMinTransmittance;
constexpr float kFarExponent = BlendConstants<float>::kFarExponent;

// One projected Gaussian as the blending kernels read it: the fields of the CPU's SplatT,
// without default initializers (a __shared__ array needs a trivial type).
struct Splat {
  float mean_x, mean_y;             // pixels
  float conic_a, conic_b, conic_c;  // q = ½(a dx² + c dy²) + b dx dy, α = min(0.99, o e^−q)
  float opacity;                    // sigmoid(logit)
  float depth;                      // view-space z
  float q_max;                      // ln(255 o) + margin: beyond it α < 1/255
  int row_min, row_max;             // image rows of the q <= q_max ellipse
};

// ---- host helpers -----------------------------------------------------------------------

// Error checks and the growing device array are shared with the training kernels.
using cuda_detail::blocks_for;
template <class T>
using DeviceArray = cuda_detail::DeviceBuffer<T>;
#define SP_CUDA(call) SP_CUDA_CHECK(call)
#define SP_LAUNCHED(name) SP_CUDA_LAUNCHED(name)

int stored_sh_degree(int coeffs) {
  int d = 0;
  while (d < 3 && sh_coeff_count(d + 1) <= coeffs) ++d;
  return d;
}

// ---- device helpers (mirroring the CPU file) ---------------------------------------------

// The CPU's exact ellipse / tile test (tile_bounds.h) on a splat record.
__device__ inline bool tile_touched(const Splat& s, int tx, int ty, int width, int height) {
  return EllipseTileTestT<float>(s.mean_x, s.mean_y, s.conic_a, s.conic_b, s.conic_c, s.q_max)(tx, ty, width, height);
}

// Order-preserving 32-bit key of a float depth.
__device__ inline uint32_t depth_key(float z) {
  const uint32_t b = __float_as_uint(z);
  return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
}

// G = e^−q (0 beyond q = 30), o·G and α = min(0.99, o·G): the CPU's splat_alpha.
struct Alpha {
  float G, oG, alpha;
};
__device__ inline Alpha splat_alpha(const Splat& s, float q) {
  Alpha a;
  a.G = q > kFarExponent ? 0.0f : expf(fmaxf(-q, -31.0f));
  a.oG = s.opacity * a.G;
  a.alpha = a.oG < kMaxAlpha ? a.oG : kMaxAlpha;
  return a;
}

// q along the pixel's row as the CPU evaluates it: (A dx + B) dx + C.
__device__ inline float splat_q(const Splat& s, float dx, float dy) {
  const float A = 0.5f * s.conic_a, B = s.conic_b * dy, C = 0.5f * s.conic_c * dy * dy;
  return (A * dx + B) * dx + C;
}

// ---- kernels ------------------------------------------------------------------------------

struct Scene {
  int n = 0, K = 1, E = 0, degree = 0;
  int width = 0, height = 0, tiles_x = 0, tiles_y = 0;
  const float* means = nullptr;
  const float* log_scales = nullptr;
  const float* rotations = nullptr;
  const float* opacities = nullptr;
  const float* sh = nullptr;
  const float* extras = nullptr;
};

__global__ void preprocess_kernel(ProjectionCameraT<float> cam, Scene sc, Splat* splats, float* colors,
                                  uint8_t* clamped, int* radii, TileRect* boxes, uint32_t* tile_count) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= sc.n) return;
  tile_count[i] = 0;
  radii[i] = 0;
  ProjectedGaussianT<float> pg;
  if (!project_gaussian(cam, sc.means + size_t(i) * 3, sc.log_scales + size_t(i) * 3, sc.rotations + size_t(i) * 4,
                        pg))
    return;
  const int W = sc.width, H = sc.height;
  // The CPU's rule (tile_bounds.h): 3σ box ∩ the α >= 1/255 ellipse's box.
  const float opacity = 1.0f / (1.0f + expf(-sc.opacities[i]));
  const SplatFootprintT<float> fp = splat_footprint(pg.mean2d, pg.radius, pg.cov2d, opacity, W, H);
  if (fp.kind == Footprint::OffImage) return;
  radii[i] = pg.radius;
  const float* m = sc.means + size_t(i) * 3;
  const Vec3T<float> dir = Vec3T<float>(m[0], m[1], m[2]) - cam.center;
  bool cl[3];
  const Vec3T<float> rgb = sh_to_color(sc.degree, sc.sh + size_t(i) * sc.K * 3, dir, cl);
  for (int c = 0; c < 3; ++c) {
    colors[size_t(i) * 3 + c] = rgb[c];
    clamped[size_t(i) * 3 + c] = cl[c] ? 1 : 0;
  }
  if (fp.kind != Footprint::Listed) return;
  Splat s;
  s.mean_x = pg.mean2d.x;
  s.mean_y = pg.mean2d.y;
  s.conic_a = pg.conic.a;
  s.conic_b = pg.conic.b;
  s.conic_c = pg.conic.c;
  s.opacity = opacity;
  s.depth = pg.depth;
  s.q_max = fp.q_max;
  s.row_min = fp.row0;
  s.row_max = fp.row1;
  splats[i] = s;
  boxes[i] = fp.tiles;
  uint32_t count = 0;
  for (int ty = fp.tiles.y0; ty < fp.tiles.y1; ++ty)
    for (int tx = fp.tiles.x0; tx < fp.tiles.x1; ++tx)
      if (tile_touched(s, tx, ty, W, H)) ++count;
  tile_count[i] = count;
}

// Writes each Gaussian's (tile, depth) keys at its slots, tiles in row-major order.
__global__ void duplicate_kernel(Scene sc, const Splat* splats, const TileRect* boxes, const uint32_t* tile_count,
                                 const uint32_t* first_slot, uint64_t* keys, uint32_t* values) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= sc.n || tile_count[i] == 0) return;
  const Splat s = splats[i];
  const TileRect b = boxes[i];
  const uint64_t dk = depth_key(s.depth);
  uint32_t slot = first_slot[i];
  for (int ty = b.y0; ty < b.y1; ++ty)
    for (int tx = b.x0; tx < b.x1; ++tx)
      if (tile_touched(s, tx, ty, sc.width, sc.height)) {
        keys[slot] = (uint64_t(uint32_t(ty * sc.tiles_x + tx)) << 32) | dk;
        values[slot] = uint32_t(i);
        ++slot;
      }
}

// ranges[2t], ranges[2t+1]: tile t's entries in the sorted list (zeroed beforehand).
__global__ void tile_ranges_kernel(const uint64_t* keys, uint32_t total, uint32_t* ranges) {
  const uint32_t e = blockIdx.x * blockDim.x + threadIdx.x;
  if (e >= total) return;
  const uint32_t tile = uint32_t(keys[e] >> 32);
  if (e == 0 || uint32_t(keys[e - 1] >> 32) != tile) ranges[2 * tile] = e;
  if (e + 1 == total || uint32_t(keys[e + 1] >> 32) != tile) ranges[2 * tile + 1] = e + 1;
}

struct BlendOut {
  float* color;    // H x W x 3
  float* depth;    // H x W
  float* alpha;    // H x W
  float* extras;   // H x W x E, zeroed beforehand
  float* final_t;  // H x W
  uint32_t* last;  // H x W: 1 + list position of the last blended entry
};

__global__ void __launch_bounds__(kBlock) blend_forward_kernel(Scene sc, const Splat* splats, const float* colors,
                                                               const uint32_t* entries, const uint32_t* ranges,
                                                               float3 background, BlendOut out) {
  __shared__ Splat s_splat[kBlock];
  __shared__ float3 s_color[kBlock];
  __shared__ uint32_t s_id[kBlock];
  const int tile = blockIdx.x;
  const int x0 = (tile % sc.tiles_x) * kTile, y0 = (tile / sc.tiles_x) * kTile;
  const int lx = threadIdx.x % kTile, ly = threadIdx.x / kTile;
  const int px = x0 + lx, py = y0 + ly;
  const bool inside = px < sc.width && py < sc.height;
  const size_t pix = size_t(py) * sc.width + px;
  const float fx = float(px) + 0.5f, fy = float(py) + 0.5f;
  const uint32_t begin = ranges[2 * tile], end = ranges[2 * tile + 1];
  const int E = sc.E;

  float T = 1.0f, acc_r = 0.0f, acc_g = 0.0f, acc_b = 0.0f, acc_z = 0.0f;
  uint32_t last = 0;
  bool done = !inside;
  for (uint32_t base = begin; base < end; base += kBlock) {
    if (__syncthreads_count(done ? 1 : 0) == kBlock) break;  // every pixel of the tile stopped
    const uint32_t e = base + threadIdx.x;
    if (e < end) {
      const uint32_t id = entries[e];
      s_id[threadIdx.x] = id;
      s_splat[threadIdx.x] = splats[id];
      s_color[threadIdx.x] = make_float3(colors[3 * size_t(id)], colors[3 * size_t(id) + 1], colors[3 * size_t(id) + 2]);
    }
    __syncthreads();
    const int n = int(min(uint32_t(kBlock), end - base));
    for (int j = 0; j < n && !done; ++j) {
      const Splat& s = s_splat[j];
      if (py < s.row_min || py > s.row_max) continue;
      const float dx = s.mean_x - fx, dy = s.mean_y - fy;
      const float q = splat_q(s, dx, dy);
      if (!(q <= s.q_max)) continue;  // α < 1/255 here (the CPU skips these lanes too)
      const Alpha a = splat_alpha(s, q);
      if (!(q >= 0.0f) || !(a.alpha >= kMinAlpha)) continue;
      const float t_next = T * (1.0f - a.alpha);
      if (t_next < kMinTransmittance) {  // INRIA: not blended, and the pixel is done
        done = true;
        break;
      }
      const float w = a.alpha * T;
      const float3 c = s_color[j];
      acc_r += w * c.x;
      acc_g += w * c.y;
      acc_b += w * c.z;
      acc_z += w * s.depth;
      if (E > 0) {
        const float* f = sc.extras + size_t(s_id[j]) * E;
        float* o = out.extras + pix * E;
        for (int k = 0; k < E; ++k) o[k] += w * f[k];
      }
      T = t_next;
      last = base - begin + uint32_t(j) + 1;
    }
    __syncthreads();  // the batch is read before the next one overwrites it
  }
  if (!inside) return;
  out.color[pix * 3] = acc_r + T * background.x;
  out.color[pix * 3 + 1] = acc_g + T * background.y;
  out.color[pix * 3 + 2] = acc_b + T * background.z;
  out.depth[pix] = acc_z;
  out.alpha[pix] = 1.0f - T;
  out.final_t[pix] = T;
  out.last[pix] = last;
}

__device__ inline float warp_sum(float v) {
  for (int o = 16; o > 0; o /= 2) v += __shfl_down_sync(0xffffffffu, v, o);
  return v;
}

struct BlendGrads {
  const float* color;   // null: not in the loss
  const float* depth;
  const float* alpha;
  const float* extras;
};

// Per pixel back to front; per-Gaussian sums (stride kGradSlots + E) in `accum` (zeroed).
__global__ void __launch_bounds__(kBlock) blend_backward_kernel(Scene sc, const Splat* splats, const float* colors,
                                                                const uint32_t* entries, const uint32_t* ranges,
                                                                const float* final_t, const uint32_t* last_entry,
                                                                float3 background, BlendGrads g, float* accum) {
  __shared__ Splat s_splat[kBlock];
  __shared__ float3 s_color[kBlock];
  __shared__ uint32_t s_id[kBlock];
  __shared__ int s_max_last;
  const int tile = blockIdx.x;
  const int x0 = (tile % sc.tiles_x) * kTile, y0 = (tile / sc.tiles_x) * kTile;
  const int lx = threadIdx.x % kTile, ly = threadIdx.x / kTile;
  const int px = x0 + lx, py = y0 + ly;
  const bool inside = px < sc.width && py < sc.height;
  const size_t pix = inside ? size_t(py) * sc.width + px : 0;
  const float fx = float(px) + 0.5f, fy = float(py) + 0.5f;
  const uint32_t begin = ranges[2 * tile], end = ranges[2 * tile + 1];
  const int E = sc.E;
  const int stride = kGradSlots + E;
  const int lane = threadIdx.x % 32;

  float gr = 0.0f, gg = 0.0f, gb = 0.0f, gd = 0.0f, ga = 0.0f, T = 1.0f;
  uint32_t last = 0;
  if (inside) {
    if (g.color) {
      gr = g.color[pix * 3];
      gg = g.color[pix * 3 + 1];
      gb = g.color[pix * 3 + 2];
    }
    if (g.depth) gd = g.depth[pix];
    if (g.alpha) ga = g.alpha[pix];
    T = final_t[pix];
    last = last_entry[pix];
  }
  const float* gf = (inside && E > 0 && g.extras) ? g.extras + pix * E : nullptr;
  const float tail = (background.x * gr + background.y * gg + background.z * gb - ga) * T;
  float suffix = 0.0f;
  if (threadIdx.x == 0) s_max_last = 0;
  __syncthreads();
  atomicMax(&s_max_last, int(last));
  __syncthreads();
  const uint32_t stop = min(begin + uint32_t(s_max_last), end);  // entries at or beyond it: no pixel reached them

  for (uint32_t top = stop; top > begin;) {
    const uint32_t base = top > begin + kBlock ? top - kBlock : begin;
    const int n = int(top - base);
    __syncthreads();
    if (int(threadIdx.x) < n) {
      const uint32_t id = entries[base + threadIdx.x];
      s_id[threadIdx.x] = id;
      s_splat[threadIdx.x] = splats[id];
      s_color[threadIdx.x] = make_float3(colors[3 * size_t(id)], colors[3 * size_t(id) + 1], colors[3 * size_t(id) + 2]);
    }
    __syncthreads();
    for (int j = n - 1; j >= 0; --j) {  // every thread walks every entry: the warp reductions need all lanes
      const Splat& s = s_splat[j];
      const uint32_t pos = base - begin + uint32_t(j);  // list position
      bool ok = pos < last && py >= s.row_min && py <= s.row_max;
      const float dx = s.mean_x - fx, dy = s.mean_y - fy;
      float q = 0.0f;
      Alpha a{0.0f, 0.0f, 0.0f};
      if (ok) {
        q = splat_q(s, dx, dy);
        ok = q <= s.q_max;
        if (ok) {
          a = splat_alpha(s, q);
          ok = q >= 0.0f && a.alpha >= kMinAlpha;
        }
      }
      float c_r = 0.0f, c_g = 0.0f, c_b = 0.0f, c_z = 0.0f, c_o = 0.0f, c_mx = 0.0f, c_my = 0.0f, c_a = 0.0f,
            c_b2 = 0.0f, c_c = 0.0f, w = 0.0f;
      if (ok) {
        const float3 c = s_color[j];
        float v = c.x * gr + c.y * gg + c.z * gb + s.depth * gd;
        const float* f = E > 0 ? sc.extras + size_t(s_id[j]) * E : nullptr;
        if (gf)
          for (int k = 0; k < E; ++k) v += f[k] * gf[k];
        const float inv_one_minus = 1.0f / (1.0f - a.alpha);
        const float t = T * inv_one_minus;  // transmittance in front of this entry
        w = a.alpha * t;
        const float d_alpha = t * v - (suffix + tail) * inv_one_minus;
        suffix += v * w;
        T = t;
        c_r = w * gr;
        c_g = w * gg;
        c_b = w * gb;
        c_z = w * gd;
        if (a.oG <= kMaxAlpha) {  // α clamped at 0.99 passes no gradient
          const float d_q = -d_alpha * a.oG;
          c_o = d_alpha * a.G;
          // q = ½(a dx² + c dy²) + b dx dy, dx = mean_x − pixel: dq/dmean = (a dx + b dy, b dx + c dy).
          c_mx = d_q * (s.conic_a * dx + s.conic_b * dy);
          c_my = d_q * (s.conic_b * dx + s.conic_c * dy);
          c_a = 0.5f * d_q * dx * dx;
          c_b2 = d_q * dx * dy;
          c_c = 0.5f * d_q * dy * dy;
        }
      }
      if (!__any_sync(0xffffffffu, ok)) continue;
      float* dst = accum + size_t(s_id[j]) * stride;
      const float sums[kGradSlots] = {c_r, c_g, c_b, c_z, c_o, c_mx, c_my, c_a, c_b2, c_c};
#pragma unroll
      for (int k = 0; k < kGradSlots; ++k) {
        const float r = warp_sum(sums[k]);
        if (lane == 0 && r != 0.0f) atomicAdd(dst + k, r);
      }
      for (int k = 0; k < E; ++k) {
        const float r = warp_sum(gf ? w * gf[k] : 0.0f);
        if (lane == 0 && r != 0.0f) atomicAdd(dst + kGradSlots + k, r);
      }
    }
  }
}

struct GradOut {
  float* means;       // N x 3
  float* log_scales;  // N x 3
  float* rotations;   // N x 4
  float* opacities;   // N
  float* sh;          // N x K x 3, zeroed beforehand
  float* extras;      // N x E
  float* means2d;     // N x 2
};

__global__ void gaussian_backward_kernel(ProjectionCameraT<float> cam, Scene sc, const Splat* splats,
                                         const uint8_t* clamped, const uint32_t* tile_count, const float* accum,
                                         GradOut out) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= sc.n) return;
  const int E = sc.E;
  const float* acc = accum + size_t(i) * (kGradSlots + E);
  for (int k = 0; k < E; ++k) out.extras[size_t(i) * E + k] = acc[kGradSlots + k];
  out.means2d[size_t(i) * 2] = acc[5];
  out.means2d[size_t(i) * 2 + 1] = acc[6];
  Vec3T<float> d_mean(0.0f);
  float* d_log_scale = out.log_scales + size_t(i) * 3;
  float* d_quat = out.rotations + size_t(i) * 4;
  if (tile_count[i] == 0) {  // no tile entry: no gradient
    out.opacities[i] = 0.0f;
    for (int k = 0; k < 3; ++k) d_log_scale[k] = 0.0f;
    for (int k = 0; k < 4; ++k) d_quat[k] = 0.0f;
  } else {
    const float o = splats[i].opacity;
    out.opacities[i] = acc[4] * o * (1.0f - o);
    const float* mean = sc.means + size_t(i) * 3;
    const bool cl[3] = {clamped[size_t(i) * 3] != 0, clamped[size_t(i) * 3 + 1] != 0, clamped[size_t(i) * 3 + 2] != 0};
    sh_to_color_backward(sc.degree, sc.sh + size_t(i) * sc.K * 3, Vec3T<float>(mean[0], mean[1], mean[2]) - cam.center,
                         Vec3T<float>(acc[0], acc[1], acc[2]), cl, out.sh + size_t(i) * sc.K * 3, d_mean);
    ProjectionGradientT<float> pg;
    pg.mean2d = Vec2T<float>(acc[5], acc[6]);
    pg.depth = acc[3];
    pg.conic = {acc[7], acc[8], acc[9]};
    project_gaussian_backward(cam, mean, sc.log_scales + size_t(i) * 3, sc.rotations + size_t(i) * 4, pg, d_mean,
                              d_log_scale, d_quat);
  }
  for (int c = 0; c < 3; ++c) out.means[size_t(i) * 3 + c] = d_mean[c];
}

// ---- the device-pointer rasterizer ---------------------------------------------------------

Image make_image(int width, int height, int channels) {
  Image image;
  image.width = width;
  image.height = height;
  image.channels = channels;
  image.pixels.resize(size_t(width) * height * channels);
  return image;
}

}  // namespace

// Everything forward leaves on the device for backward, and the scratch arrays, which only
// grow (a training loop reuses them every iteration without new allocations).
struct CudaDeviceRasterizer::Impl {
  Camera camera;
  RenderOptions options;
  GaussianParams params;  // device pointers of the last forward()
  int width = 0, height = 0, tiles_x = 0, tiles_y = 0, degree = 0, E = 0, K = 1;
  size_t n = 0;
  uint32_t total = 0;  // tile entries
  DeviceArray<Splat> splats;
  DeviceArray<float> colors;
  DeviceArray<uint8_t> clamped;
  DeviceArray<uint32_t> tile_count;
  DeviceArray<uint32_t> entries;  // Gaussian ids per tile, front to back
  DeviceArray<uint32_t> ranges;   // 2 per tile
  DeviceArray<float> final_t;
  DeviceArray<uint32_t> last;
  DeviceArray<int> radii;
  DeviceArray<TileRect> boxes;
  DeviceArray<uint32_t> first_slot, counts_ext;
  DeviceArray<uint8_t> temp;
  DeviceArray<uint64_t> keys, keys_sorted;
  DeviceArray<uint32_t> values;
  DeviceArray<float> out_color, out_depth, out_alpha, out_extras;
  DeviceArray<float> accum;

  Scene scene() const {
    Scene sc;
    sc.n = int(n);
    sc.K = K;
    sc.E = E;
    sc.degree = degree;
    sc.width = width;
    sc.height = height;
    sc.tiles_x = tiles_x;
    sc.tiles_y = tiles_y;
    sc.means = params.means;
    sc.log_scales = params.log_scales;
    sc.rotations = params.rotations;
    sc.opacities = params.opacities;
    sc.sh = params.sh;
    sc.extras = E > 0 ? params.extras : nullptr;
    return sc;
  }
};

CudaDeviceRasterizer::CudaDeviceRasterizer() : impl_(std::make_unique<Impl>()) {}
CudaDeviceRasterizer::~CudaDeviceRasterizer() = default;
int CudaDeviceRasterizer::width() const { return impl_->width; }
int CudaDeviceRasterizer::height() const { return impl_->height; }
const float* CudaDeviceRasterizer::color() const { return impl_->out_color.get(); }
const float* CudaDeviceRasterizer::depth() const { return impl_->out_depth.get(); }
const float* CudaDeviceRasterizer::alpha() const { return impl_->out_alpha.get(); }
const float* CudaDeviceRasterizer::extras() const { return impl_->E > 0 ? impl_->out_extras.get() : nullptr; }
const int* CudaDeviceRasterizer::radii() const { return impl_->radii.get(); }

void CudaDeviceRasterizer::forward(const Camera& camera, const GaussianParams& params, const RenderOptions& options) {
  check_render_inputs("CUDA", camera, params, size_t(std::numeric_limits<int>::max()));
  Impl& st = *impl_;
  const int W = camera.width, H = camera.height;
  const size_t N = params.count;
  const int E = params.extra_channels, K = params.sh_coeffs;
  st.camera = camera;
  st.options = options;
  st.params = params;
  st.width = W;
  st.height = H;
  st.tiles_x = (W + kTile - 1) / kTile;
  st.tiles_y = (H + kTile - 1) / kTile;
  st.degree = std::clamp(options.sh_degree, 0, stored_sh_degree(K));
  st.E = E;
  st.K = K;
  st.n = N;
  st.total = 0;
  const int n_tiles = st.tiles_x * st.tiles_y;
  const size_t P = size_t(W) * H;
  const ProjectionCameraT<float> cam = projection_camera<float>(camera, options.near_plane);
  const Scene sc = st.scene();

  // 1. Project, colour, count tiles.
  st.splats.resize(N);
  st.colors.resize(N * 3);
  st.clamped.resize(N * 3);
  st.tile_count.resize(N);
  st.radii.resize(N);
  st.boxes.resize(N);
  if (N > 0) {
    preprocess_kernel<<<blocks_for(N, 256), 256>>>(cam, sc, st.splats.get(), st.colors.get(), st.clamped.get(),
                                                   st.radii.get(), st.boxes.get(), st.tile_count.get());
    SP_LAUNCHED("preprocess_kernel");
  }

  // 2. First slot of each Gaussian (exclusive scan in index order); total at [N].
  st.first_slot.resize(N + 1);
  st.counts_ext.resize(N + 1);  // counts with a trailing 0, so the scan's last element is the total
  st.counts_ext.zero();
  if (N > 0)
    SP_CUDA(cudaMemcpy(st.counts_ext.get(), st.tile_count.get(), N * sizeof(uint32_t), cudaMemcpyDeviceToDevice));
  size_t temp_bytes = 0;
  SP_CUDA(cub::DeviceScan::ExclusiveSum(nullptr, temp_bytes, st.counts_ext.get(), st.first_slot.get(), int(N + 1)));
  st.temp.resize(temp_bytes);
  SP_CUDA(cub::DeviceScan::ExclusiveSum(st.temp.get(), temp_bytes, st.counts_ext.get(), st.first_slot.get(),
                                        int(N + 1)));
  uint32_t total = 0;
  SP_CUDA(cudaMemcpy(&total, st.first_slot.get() + N, sizeof(uint32_t), cudaMemcpyDeviceToHost));
  if (total >= uint32_t(std::numeric_limits<int>::max()))
    throw_internal("CUDA rasterizer: more than 2G tile entries");  // CUB's item counts are int here
  st.total = total;

  // 3. Duplicate with (tile, depth) keys; stable sort → per tile front to back, ties by index.
  st.keys.resize(total);
  st.keys_sorted.resize(total);
  st.values.resize(total);
  st.entries.resize(total);
  st.ranges.resize(size_t(n_tiles) * 2);
  st.ranges.zero();
  if (total > 0) {
    duplicate_kernel<<<blocks_for(N, 256), 256>>>(sc, st.splats.get(), st.boxes.get(), st.tile_count.get(),
                                                  st.first_slot.get(), st.keys.get(), st.values.get());
    SP_LAUNCHED("duplicate_kernel");
    int tile_bits = 1;
    while ((uint64_t(1) << tile_bits) < uint64_t(n_tiles)) ++tile_bits;
    const int end_bit = 32 + tile_bits;
    temp_bytes = 0;
    SP_CUDA(cub::DeviceRadixSort::SortPairs(nullptr, temp_bytes, st.keys.get(), st.keys_sorted.get(), st.values.get(),
                                            st.entries.get(), int(total), 0, end_bit));
    st.temp.resize(temp_bytes);
    SP_CUDA(cub::DeviceRadixSort::SortPairs(st.temp.get(), temp_bytes, st.keys.get(), st.keys_sorted.get(),
                                            st.values.get(), st.entries.get(), int(total), 0, end_bit));
    tile_ranges_kernel<<<blocks_for(total, 256), 256>>>(st.keys_sorted.get(), total, st.ranges.get());
    SP_LAUNCHED("tile_ranges_kernel");
  }

  // 4. Blend.
  st.out_color.resize(P * 3);
  st.out_depth.resize(P);
  st.out_alpha.resize(P);
  st.out_extras.resize(P * size_t(E));
  st.out_extras.zero();
  st.final_t.resize(P);
  st.last.resize(P);
  const BlendOut bo{st.out_color.get(), st.out_depth.get(), st.out_alpha.get(), st.out_extras.get(),
                    st.final_t.get(),   st.last.get()};
  const float3 bg = make_float3(options.background.x, options.background.y, options.background.z);
  blend_forward_kernel<<<n_tiles, kBlock>>>(sc, st.splats.get(), st.colors.get(), st.entries.get(), st.ranges.get(),
                                            bg, bo);
  SP_LAUNCHED("blend_forward_kernel");
}

void CudaDeviceRasterizer::backward(const float* d_color, const float* d_depth, const float* d_alpha,
                                    const float* d_extras, const DeviceGradientPointers& out) {
  Impl& st = *impl_;
  const size_t N = st.n;
  const int E = st.E, K = st.K;
  const ProjectionCameraT<float> cam = projection_camera<float>(st.camera, st.options.near_plane);
  const Scene sc = st.scene();
  const int n_tiles = st.tiles_x * st.tiles_y;
  const BlendGrads bg{d_color, d_depth, d_alpha, E > 0 ? d_extras : nullptr};

  st.accum.resize(N * size_t(kGradSlots + E));
  st.accum.zero();
  const float3 background = make_float3(st.options.background.x, st.options.background.y, st.options.background.z);
  if (st.total > 0) {
    blend_backward_kernel<<<n_tiles, kBlock>>>(sc, st.splats.get(), st.colors.get(), st.entries.get(),
                                               st.ranges.get(), st.final_t.get(), st.last.get(), background, bg,
                                               st.accum.get());
    SP_LAUNCHED("blend_backward_kernel");
  }
  if (N > 0) {
    SP_CUDA(cudaMemset(out.sh, 0, N * size_t(K) * 3 * sizeof(float)));  // the SH backward adds the active bands only
    const GradOut go{out.means, out.log_scales, out.rotations, out.opacities, out.sh, out.extras, out.means2d};
    gaussian_backward_kernel<<<blocks_for(N, 128), 128>>>(cam, sc, st.splats.get(), st.clamped.get(),
                                                          st.tile_count.get(), st.accum.get(), go);
    SP_LAUNCHED("gaussian_backward_kernel");
  }
}

namespace {

// ---- the Rasterizer interface (host pointers) ---------------------------------------------

// The uploaded parameters and the device rasterizer that rendered them (one per forward():
// the trainer may render several views before the matching backward calls).
struct CudaRenderState final : RenderState {
  DeviceArray<float> means, log_scales, rotations, opacities, sh, extras;
  GaussianParams device_params;
  CudaDeviceRasterizer raster;
};

class CudaTileRasterizer final : public Rasterizer {
 public:
  const char* name() const override { return "cuda"; }

  RenderOutput forward(const Camera& camera, const GaussianParams& params, const RenderOptions& options) override {
    std::string why;
    if (!cuda_device_available(&why)) throw_internal("CUDA rasterizer: no usable CUDA device (" + why + ")");
    check_render_inputs("CUDA", camera, params, size_t(std::numeric_limits<int>::max()));
    const int W = camera.width, H = camera.height;
    const size_t N = params.count;
    const int E = params.extra_channels, K = params.sh_coeffs;
    const size_t P = size_t(W) * H;

    auto st = std::make_shared<CudaRenderState>();
    st->means.upload(params.means, N * 3);
    st->log_scales.upload(params.log_scales, N * 3);
    st->rotations.upload(params.rotations, N * 4);
    st->opacities.upload(params.opacities, N);
    st->sh.upload(params.sh, N * size_t(K) * 3);
    st->extras.resize(0);
    if (E > 0) st->extras.upload(params.extras, N * size_t(E));
    GaussianParams dp = params;
    dp.means = st->means.get();
    dp.log_scales = st->log_scales.get();
    dp.rotations = st->rotations.get();
    dp.opacities = st->opacities.get();
    dp.sh = st->sh.get();
    dp.extras = E > 0 ? st->extras.get() : nullptr;
    st->device_params = dp;
    st->raster.forward(camera, dp, options);

    RenderOutput out;
    out.color = make_image(W, H, 3);
    out.depth = make_image(W, H, 1);
    out.alpha = make_image(W, H, 1);
    SP_CUDA(cudaMemcpy(out.color.pixels.data(), st->raster.color(), P * 3 * sizeof(float), cudaMemcpyDeviceToHost));
    SP_CUDA(cudaMemcpy(out.depth.pixels.data(), st->raster.depth(), P * sizeof(float), cudaMemcpyDeviceToHost));
    SP_CUDA(cudaMemcpy(out.alpha.pixels.data(), st->raster.alpha(), P * sizeof(float), cudaMemcpyDeviceToHost));
    if (E > 0) {
      out.extras = make_image(W, H, E);
      SP_CUDA(cudaMemcpy(out.extras.pixels.data(), st->raster.extras(), P * size_t(E) * sizeof(float),
                         cudaMemcpyDeviceToHost));
    }
    out.radii.resize(N);
    if (N > 0) SP_CUDA(cudaMemcpy(out.radii.data(), st->raster.radii(), N * sizeof(int), cudaMemcpyDeviceToHost));
    SP_CUDA(cudaDeviceSynchronize());
    out.state = std::move(st);
    return out;
  }

  void backward(const Camera& camera, const GaussianParams& params, const RenderOptions& /*options*/,
                const RenderOutput& forward_output, const OutputGradients& output_grads,
                GaussianGradients& grads) override {
    auto* st = dynamic_cast<CudaRenderState*>(forward_output.state.get());
    if (!st) throw_internal("CUDA rasterizer backward: the forward output does not come from the CUDA rasterizer");
    const size_t N = params.count;
    const int W = camera.width, H = camera.height, E = params.extra_channels, K = params.sh_coeffs;
    if (st->raster.width() != W || st->raster.height() != H || st->device_params.count != N ||
        st->device_params.extra_channels != E || st->device_params.sh_coeffs != K)
      throw_internal("CUDA rasterizer: backward called with a state from another forward pass");
    check_gradient_image("CUDA", output_grads.color, W, H, 3, "color");
    check_gradient_image("CUDA", output_grads.depth, W, H, 1, "depth");
    check_gradient_image("CUDA", output_grads.alpha, W, H, 1, "alpha");
    if (E > 0) check_gradient_image("CUDA", output_grads.extras, W, H, E, "extras");
    const size_t P = size_t(W) * H;

    DeviceArray<float> g_color, g_depth, g_alpha, g_extras;
    if (output_grads.color) g_color.upload(output_grads.color->pixels.data(), P * 3);
    if (output_grads.depth) g_depth.upload(output_grads.depth->pixels.data(), P);
    if (output_grads.alpha) g_alpha.upload(output_grads.alpha->pixels.data(), P);
    if (E > 0 && output_grads.extras) g_extras.upload(output_grads.extras->pixels.data(), P * size_t(E));

    DeviceArray<float> d_means, d_log_scales, d_rotations, d_opacities, d_sh, d_extras, d_means2d;
    d_means.resize(N * 3);
    d_log_scales.resize(N * 3);
    d_rotations.resize(N * 4);
    d_opacities.resize(N);
    d_sh.resize(N * size_t(K) * 3);
    d_extras.resize(N * size_t(E));
    d_means2d.resize(N * 2);
    const DeviceGradientPointers go{d_means.get(), d_log_scales.get(), d_rotations.get(), d_opacities.get(),
                                    d_sh.get(),    d_extras.get(),     d_means2d.get()};
    st->raster.backward(output_grads.color ? g_color.get() : nullptr, output_grads.depth ? g_depth.get() : nullptr,
                        output_grads.alpha ? g_alpha.get() : nullptr,
                        (E > 0 && output_grads.extras) ? g_extras.get() : nullptr, go);
    grads.resize(N, K, E);
    d_means.download(grads.means.data(), N * 3);
    d_log_scales.download(grads.log_scales.data(), N * 3);
    d_rotations.download(grads.rotations.data(), N * 4);
    d_opacities.download(grads.opacities.data(), N);
    d_sh.download(grads.sh.data(), N * size_t(K) * 3);
    d_extras.download(grads.extras.data(), N * size_t(E));
    d_means2d.download(grads.means2d.data(), N * 2);
    SP_CUDA(cudaDeviceSynchronize());
  }
};
}  // namespace

bool cuda_device_available(std::string* why) {
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    cudaGetLastError();
    if (why) *why = std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e);
    return false;
  }
  if (count <= 0) {
    if (why) *why = "no CUDA device found";
    return false;
  }
  return true;
}

std::unique_ptr<Rasterizer> make_cuda_rasterizer() { return std::make_unique<CudaTileRasterizer>(); }

}  // namespace sp
