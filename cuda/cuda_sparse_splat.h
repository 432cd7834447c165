#pragma once
// CUDA counterpart of engine/language/sparse_splat.h's splat_sparse_codes: blends each
// Gaussian's `levels` x K (index, weight) code pairs into a levels x L accumulator per pixel,
// replaying the α of a CPU tile-rasterizer forward pass (its tile lists, splats and
// per-pixel last entries are uploaded). One thread per pixel, one block per 16x16 tile.
// Plain arrays only: no language or CUDA types here. Tested against the CPU path in
// tests/language/test_language_cuda.cpp (skips without a device).
#include <cstdint>
#include <vector>

#include "engine/render/tile_rasterizer_cpu.h"

namespace sp {

// index/weight: N x levels x K. Returns H x W x (levels x L). Throws sp::Error (Internal)
// without a usable device.
std::vector<float> cuda_splat_sparse_codes(const TileRenderStateT<float>& state, int levels, int codes, int top_k,
                                           const uint16_t* index, const float* weight);

}  // namespace sp
