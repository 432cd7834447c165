#include "engine/language/sparse_splat.h"

#include <algorithm>
#include <bit>
#include <vector>

#include "engine/core/error.h"
#include "engine/core/parallel.h"

namespace sp {
namespace {

constexpr int kTilePixels = kTileSize * kTileSize;

// e^x for x in [-31, 0]: the rasterizer's float exponential (x = n ln2 + r, degree-7 Taylor
// polynomial of e^r, 2^n through the exponent bits), written so a loop over 16 pixels
// vectorizes.
inline float exp_nonpositive(float x) {
  const int n = int(x * 1.44269504088896341f - 0.5f);
  const float nf = float(n);
  const float r = (x - nf * 0.693359375f) + nf * 2.12194440e-4f;
  const float r2 = r * r, r4 = r2 * r2;
  const float p01 = 1.0f + r, p23 = 0.5f + r * (1.0f / 6.0f);
  const float p45 = (1.0f / 24.0f) + r * (1.0f / 120.0f), p67 = (1.0f / 720.0f) + r * (1.0f / 5040.0f);
  const float p = (p01 + r2 * p23) + r4 * (p45 + r2 * p67);
  return p * std::bit_cast<float>((n + 127) << 23);
}

// Blends one tile's codes into acc (kTilePixels x channels, zeroed here), replaying the
// forward pass's α per (entry, pixel): same exponent, same thresholds, same last entry.
// Entry-major like the rasterizer: α for a row of 16 pixels at once, then the K pairs of
// each level are added only where the Gaussian contributes.
void blend_tile_codes(const TileRenderStateT<float>& st, const SparseCodes& codes, int tile, float* acc) {
  using C = BlendConstants<float>;
  const int channels = codes.levels * codes.codes, K = codes.top_k, levels = codes.levels, Lc = codes.codes;
  const int x0 = (tile % st.tiles_x) * kTileSize, y0 = (tile / st.tiles_x) * kTileSize;
  const int nx = std::min(kTileSize, st.width - x0), ny = std::min(kTileSize, st.height - y0);
  std::fill(acc, acc + size_t(kTilePixels) * channels, 0.0f);
  alignas(64) float trans[kTilePixels];
  uint32_t last[kTilePixels];
  uint32_t max_last = 0;
  for (int p = 0; p < kTilePixels; ++p) {
    const int x = p % kTileSize, y = p / kTileSize;
    trans[p] = 1.0f;
    last[p] = (x < nx && y < ny) ? st.last_entry[size_t(y0 + y) * st.width + (x0 + x)] : 0;
    max_last = std::max(max_last, last[p]);
  }
  alignas(64) float lane_x[kTileSize];
  for (int x = 0; x < kTileSize; ++x) lane_x[x] = float(x0 + x) + 0.5f;
  const uint32_t* list = st.tile_entries.data() + st.tile_offsets[size_t(tile)];
  const int group = levels * K;
  for (uint32_t j = 0; j < max_last; ++j) {
    const uint32_t id = list[j];
    const SplatT<float> s = st.splats[id];
    const int ya = std::max(s.row_min - y0, 0), yb = std::min(s.row_max - y0, ny - 1);
    const uint16_t* idx = codes.index.data() + size_t(id) * group;
    const float* cw = codes.weight.data() + size_t(id) * group;
    for (int y = ya; y <= yb; ++y) {
      const float dy = s.mean_y - (float(y0 + y) + 0.5f);
      const float A = 0.5f * s.conic_a, B = s.conic_b * dy, Cq = 0.5f * s.conic_c * dy * dy;
      alignas(64) float alpha[kTileSize];
      bool any = false;
      for (int x = 0; x < kTileSize; ++x) {
        const float dx = s.mean_x - lane_x[x];
        const float q = (A * dx + B) * dx + Cq;
        const float G = q > 30.0f ? 0.0f : exp_nonpositive(-std::min(q, 31.0f));
        const float a = std::min(C::kMaxAlpha, s.opacity * G);
        const bool ok = q <= s.q_max && q >= 0.0f && a >= C::kMinAlpha;
        alpha[x] = ok ? a : 0.0f;
        any |= ok;
      }
      if (!any) continue;
      for (int x = 0; x < nx; ++x) {
        const int p = y * kTileSize + x;
        if (alpha[x] == 0.0f || j >= last[p]) continue;
        const float w = alpha[x] * trans[p];
        trans[p] *= 1.0f - alpha[x];
        float* a = acc + size_t(p) * channels;
        for (int l = 0; l < levels; ++l)
          for (int k = 0; k < K; ++k) a[l * Lc + idx[l * K + k]] += w * cw[l * K + k];
      }
    }
  }
}

void check_inputs(const TileRenderStateT<float>& st, const SparseCodes& codes) {
  if (st.splats.size() != codes.size())
    throw_internal("sparse splatting: the forward pass saw " + std::to_string(st.splats.size()) +
                   " Gaussians, the codes are for " + std::to_string(codes.size()));
}

}  // namespace

std::vector<float> transposed_projection_vectors(const CodeProjection& proj, int levels, int L) {
  const int P = proj.count;
  std::vector<float> vt(size_t(levels) * L * P);
  for (int l = 0; l < levels; ++l)
    for (int p = 0; p < P; ++p)
      for (int i = 0; i < L; ++i) vt[(size_t(l) * L + i) * P + p] = proj.vectors[(size_t(l) * P + p) * L + i];
  return vt;
}

void project_code(const float* w, int L, int P, const float* G, const float* vt, float* dots, float* n2, float* gw) {
  // G w as a sum of G's rows (G is symmetric) and the dots from the L x P layout: both inner
  // loops run over contiguous outputs and vectorize; zero code entries are skipped.
  std::fill(gw, gw + L, 0.0f);
  std::fill(dots, dots + P, 0.0f);
  for (int j = 0; j < L; ++j) {
    const float wj = w[j];
    if (wj == 0.0f) continue;
    for (int i = 0; i < L; ++i) gw[i] += wj * G[size_t(j) * L + i];
    for (int p = 0; p < P; ++p) dots[p] += wj * vt[size_t(j) * P + p];
  }
  float s = 0;
  for (int i = 0; i < L; ++i) s += w[i] * gw[i];
  *n2 = s;
}

Image splat_sparse_codes(const TileRenderStateT<float>& st, const SparseCodes& codes) {
  check_inputs(st, codes);
  const int channels = codes.levels * codes.codes;
  Image out(st.width, st.height, channels);
  const int tiles = st.tiles_x * st.tiles_y;
#pragma omp parallel num_threads(thread_count())
  {
    std::vector<float> acc(size_t(kTilePixels) * channels);
#pragma omp for schedule(dynamic, 1)
    for (int tile = 0; tile < tiles; ++tile) {
      blend_tile_codes(st, codes, tile, acc.data());
      const int x0 = (tile % st.tiles_x) * kTileSize, y0 = (tile / st.tiles_x) * kTileSize;
      const int nx = std::min(kTileSize, st.width - x0), ny = std::min(kTileSize, st.height - y0);
      for (int y = 0; y < ny; ++y)
        for (int x = 0; x < nx; ++x)
          std::copy_n(acc.data() + size_t(y * kTileSize + x) * channels, channels,
                      out.pixels.data() + (size_t(y0 + y) * st.width + x0 + x) * channels);
    }
  }
  return out;
}

std::vector<float> splat_sparse_projections(const TileRenderStateT<float>& st, const SparseCodes& codes,
                                            const CodeProjection& proj) {
  check_inputs(st, codes);
  const int levels = codes.levels, L = codes.codes, channels = levels * L, P = proj.count;
  if (proj.vectors.size() != size_t(levels) * P * L || proj.gram.size() != size_t(levels) * L * L)
    throw_internal("sparse splatting: projection sizes do not match the codes");
  const size_t plane = size_t(st.width) * st.height;
  std::vector<float> out(size_t(levels) * (P + 1) * plane);
  const int tiles = st.tiles_x * st.tiles_y;
  const std::vector<float> vt = transposed_projection_vectors(proj, levels, L);
#pragma omp parallel num_threads(thread_count())
  {
    std::vector<float> acc(size_t(kTilePixels) * channels), gw(static_cast<size_t>(L)), dots(static_cast<size_t>(P));
#pragma omp for schedule(dynamic, 1)
    for (int tile = 0; tile < tiles; ++tile) {
      blend_tile_codes(st, codes, tile, acc.data());
      const int x0 = (tile % st.tiles_x) * kTileSize, y0 = (tile / st.tiles_x) * kTileSize;
      const int nx = std::min(kTileSize, st.width - x0), ny = std::min(kTileSize, st.height - y0);
      for (int y = 0; y < ny; ++y)
        for (int x = 0; x < nx; ++x) {
          const size_t pix = size_t(y0 + y) * st.width + x0 + x;
          for (int l = 0; l < levels; ++l) {
            const float* w = acc.data() + size_t(y * kTileSize + x) * channels + size_t(l) * L;
            float* o = out.data() + size_t(l) * (P + 1) * plane + pix;
            float n2 = 0;
            project_code(w, L, P, proj.gram.data() + size_t(l) * L * L, vt.data() + size_t(l) * L * P, dots.data(), &n2,
                         gw.data());
            for (int p = 0; p < P; ++p) o[size_t(p) * plane] = dots[size_t(p)];
            o[size_t(P) * plane] = n2;
          }
        }
    }
  }
  return out;
}

}  // namespace sp
