// Sparse coefficient splatting on CUDA (cuda_sparse_splat.h); the CPU reference is
// engine/language/sparse_splat.cpp, whose per-(entry, pixel) α this kernel recomputes the
// same way (conic exponent, q_max and 1/255 tests, 0.99 clamp, the pixel's last entry).
#include "cuda/cuda_sparse_splat.h"

#include <cuda_runtime.h>

#include <string>

#include "cuda/cuda_rasterizer.h"
#include "engine/core/error.h"

namespace sp {
namespace {

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw_internal(std::string("CUDA sparse splatting: ") + what + ": " + cudaGetErrorString(e));
}

template <class T>
struct Buffer {
  T* ptr = nullptr;
  Buffer() = default;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer() {
    if (ptr) cudaFree(ptr);
  }
  void upload(const T* host, size_t n) {
    check(cudaMalloc(&ptr, std::max<size_t>(n, 1) * sizeof(T)), "cudaMalloc");
    if (n) check(cudaMemcpy(ptr, host, n * sizeof(T), cudaMemcpyHostToDevice), "upload");
  }
  void zeros(size_t n) {
    check(cudaMalloc(&ptr, std::max<size_t>(n, 1) * sizeof(T)), "cudaMalloc");
    check(cudaMemset(ptr, 0, std::max<size_t>(n, 1) * sizeof(T)), "cudaMemset");
  }
};

__global__ void sparse_splat_kernel(int width, int height, int tiles_x, const SplatT<float>* splats,
                                    const uint32_t* tile_offsets, const uint32_t* tile_entries,
                                    const uint32_t* last_entry, int levels, int L, int K, const uint16_t* index,
                                    const float* weight, float* out) {
  const int tile = blockIdx.x;
  const int x = (tile % tiles_x) * kTileSize + int(threadIdx.x % kTileSize);
  const int y = (tile / tiles_x) * kTileSize + int(threadIdx.x / kTileSize);
  if (x >= width || y >= height) return;
  const size_t pix = size_t(y) * width + x;
  const uint32_t* list = tile_entries + tile_offsets[tile];
  const uint32_t last = last_entry[pix];
  const int channels = levels * L, group = levels * K;
  float* acc = out + pix * channels;  // this thread's pixel alone: no atomics
  const float px = float(x) + 0.5f, py = float(y) + 0.5f;
  float t = 1.0f;
  for (uint32_t j = 0; j < last; ++j) {
    const uint32_t id = list[j];
    const SplatT<float> s = splats[id];
    if (y < s.row_min || y > s.row_max) continue;
    const float dy = s.mean_y - py, dx = s.mean_x - px;
    const float q = (0.5f * s.conic_a * dx + s.conic_b * dy) * dx + 0.5f * s.conic_c * dy * dy;
    if (!(q <= s.q_max) || q < 0.0f) continue;
    const float G = q > 30.0f ? 0.0f : expf(-q);
    const float alpha = fminf(0.99f, s.opacity * G);
    if (!(alpha >= 1.0f / 255.0f)) continue;
    const float w = alpha * t;
    t *= 1.0f - alpha;
    const uint16_t* idx = index + size_t(id) * group;
    const float* cw = weight + size_t(id) * group;
    for (int l = 0; l < levels; ++l)
      for (int k = 0; k < K; ++k) acc[l * L + idx[l * K + k]] += w * cw[l * K + k];
  }
}

}  // namespace

std::vector<float> cuda_splat_sparse_codes(const TileRenderStateT<float>& st, int levels, int codes, int top_k,
                                           const uint16_t* index, const float* weight) {
  std::string why;
  if (!cuda_device_available(&why)) throw_internal("CUDA sparse splatting: no usable CUDA device (" + why + ")");
  const size_t n = st.splats.size(), pixels = size_t(st.width) * st.height, channels = size_t(levels) * codes;
  Buffer<SplatT<float>> splats;
  Buffer<uint32_t> offsets, entries, last;
  Buffer<uint16_t> d_index;
  Buffer<float> d_weight, out;
  splats.upload(st.splats.data(), n);
  offsets.upload(st.tile_offsets.data(), st.tile_offsets.size());
  entries.upload(st.tile_entries.data(), st.tile_entries.size());
  last.upload(st.last_entry.data(), st.last_entry.size());
  d_index.upload(index, n * size_t(levels) * top_k);
  d_weight.upload(weight, n * size_t(levels) * top_k);
  out.zeros(pixels * channels);
  const int tiles = st.tiles_x * st.tiles_y;
  if (tiles > 0) {
    sparse_splat_kernel<<<tiles, kTileSize * kTileSize>>>(st.width, st.height, st.tiles_x, splats.ptr, offsets.ptr,
                                                           entries.ptr, last.ptr, levels, codes, top_k, d_index.ptr,
                                                           d_weight.ptr, out.ptr);
    check(cudaGetLastError(), "sparse_splat_kernel launch");
  }
  std::vector<float> host(pixels * channels);
  check(cudaMemcpy(host.data(), out.ptr, host.size() * sizeof(float), cudaMemcpyDeviceToHost), "download");
  return host;
}

}  // namespace sp
