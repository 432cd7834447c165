#pragma once
// Sparse coefficient splatting (docs/language.md): each Gaussian contributes only its K
// (index, weight) pairs per level, so a blended Gaussian-pixel costs O(levels·K) instead of
// the dense path's O(levels·L). Reuses the tile lists and per-pixel stopping points of a CPU
// rasterizer forward pass over the same camera and Gaussians, and recomputes α exactly as that
// pass did, so the result equals rendering the dense L-vectors as extra channels.
#include "engine/core/image.h"
#include "engine/language/language_field.h"
#include "engine/render/tile_rasterizer_cpu.h"

namespace sp {

// Per pixel, the blended codes of every level: channels = levels x L (level-major).
Image splat_sparse_codes(const TileRenderStateT<float>& state, const SparseCodes& codes);

// What a query needs per level from each pixel's blended code w: the dot products w·v for
// a set of L-vectors v (rows of `vectors`, P x L) and the quadratic form wᵀ G w (G, L x L).
struct CodeProjection {
  int count = 0;               // P
  std::vector<float> vectors;  // levels x P x L
  std::vector<float> gram;     // levels x L x L
};
// The per-level projection vectors transposed to L x P (the layout project_code reads).
std::vector<float> transposed_projection_vectors(const CodeProjection& projection, int levels, int L);
// One code vector w (L values): dots[p] = w·v_p (vt: L x P) and n2 = wᵀ G w; scratch holds L.
void project_code(const float* w, int L, int P, const float* gram, const float* vt, float* dots, float* n2,
                  float* scratch);

// Output: levels x (P + 1) x H x W planes: the P dot products, then the quadratic form.
// Never materializes the levels x L code image (one tile's worth per thread).
std::vector<float> splat_sparse_projections(const TileRenderStateT<float>& state, const SparseCodes& codes,
                                            const CodeProjection& projection);

}  // namespace sp
