// The CPU tile rasterizer (forward and backward). Pipeline: docs/rasterizer.md.
#include "engine/render/tile_rasterizer_cpu.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>

#include <omp.h>

#include "engine/core/error.h"
#include "engine/render/project.h"
#include "engine/render/sh.h"

namespace sp {

namespace {

constexpr int kTilePixels = kTileSize * kTileSize;
// Per tile entry gradient slots: colour (3), depth, opacity, mean2d (2), conic (3), then extras.
constexpr int kEntrySlots = 10;
// Below these amounts of work a parallel region costs more than it saves (fork/join, and much
// more when the machine is oversubscribed); the results are the same either way.
constexpr size_t kParallelGaussians = 4096;
constexpr size_t kParallelEntries = 4096;  // tile entries
// The blending loops fetch the splat record this many list entries ahead.
constexpr int kPrefetch = 4;

// ---- lanes: explicit SIMD through GCC/Clang vector extensions -------------------------
// The blending loops run on B-byte vectors: 16 (SSE2, every x86-64 CPU) or, chosen at run
// time on x86-64 CPUs that have it, 32 (AVX2 + FMA: 8 float lanes). GCC does not if-convert these
// loops by itself (trapping math), so the vector code is written out; the double instance
// runs the same code on 16-byte double vectors. The helpers are always inlined into the
// kernels, so no call passes a vector across an ABI boundary: -Wpsabi is off for this file
// (templates are instantiated at its end, so the pragma cannot be scoped tighter).
#pragma GCC diagnostic ignored "-Wpsabi"
#define SP_LANES_INLINE [[gnu::always_inline]] inline

template <class T, int B>
struct Lanes {
  typedef T V __attribute__((vector_size(B)));
  using I = decltype(V{} < V{});  // comparison masks: 0 or -1 per lane
  using Int = std::conditional_t<sizeof(T) == 4, int32_t, int64_t>;  // a mask lane
  static constexpr int kWidth = B / int(sizeof(T));
  static_assert(kTileSize % kWidth == 0);
};
template <class T>
using LaneInt = typename Lanes<T, 16>::Int;  // int32_t for float, int64_t for double

template <class V, class S>
SP_LANES_INLINE V load(const S* p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <class V, class S>
SP_LANES_INLINE void store(S* p, const V& v) {
  std::memcpy(p, &v, sizeof v);
}
template <class V, class S>
SP_LANES_INLINE V broadcast(S s) {
  return V{} + s;
}
// Whether any lane of a comparison mask is set: one movemask on x86, a lane loop elsewhere.
template <class I>
SP_LANES_INLINE bool any_lane(const I& m) {
#if defined(__x86_64__)
  // SSE builtins only (the 32-byte case ORs its halves first): this helper is compiled for
  // the baseline ISA before being inlined into the AVX2 kernels.
  typedef float f4 __attribute__((vector_size(16)));
  typedef double d2 __attribute__((vector_size(16)));
  if constexpr (sizeof(I) == 32 && sizeof(m[0]) == 4) {
    const auto half = __builtin_shufflevector(m, m, 0, 1, 2, 3) | __builtin_shufflevector(m, m, 4, 5, 6, 7);
    return __builtin_ia32_movmskps((f4)half) != 0;
  }
  if constexpr (sizeof(I) == 16 && sizeof(m[0]) == 4) return __builtin_ia32_movmskps((f4)m) != 0;
  if constexpr (sizeof(I) == 16 && sizeof(m[0]) == 8) return __builtin_ia32_movmskpd((d2)m) != 0;
#endif
  auto s = m[0];
  for (size_t l = 1; l < sizeof(I) / sizeof(m[0]); ++l) s |= m[l];
  return s != 0;
}
// Sum of the lanes by halving (a fixed order, so sums never depend on scheduling).
template <class V>
SP_LANES_INLINE auto lane_sum(const V& v) {
  constexpr size_t n = sizeof(V) / sizeof(v[0]);
  if constexpr (n == 8) {
    const auto h = __builtin_shufflevector(v, v, 0, 1, 2, 3) + __builtin_shufflevector(v, v, 4, 5, 6, 7);
    const auto q = __builtin_shufflevector(h, h, 0, 1) + __builtin_shufflevector(h, h, 2, 3);
    return q[0] + q[1];
  } else if constexpr (n == 4) {
    const auto h = __builtin_shufflevector(v, v, 0, 1) + __builtin_shufflevector(v, v, 2, 3);
    return h[0] + h[1];
  } else {
    auto s = v[0];
    for (size_t l = 1; l < n; ++l) s += v[l];
    return s;
  }
}

// e^x for float lanes with x in [-87, 0.3]: x = n ln2 + r with |r| <= ln2/2 (ln 2 split in
// two so n ln2_hi is exact), e^r by its degree-7 Taylor polynomial (truncation 5e-9)
// evaluated by Estrin's scheme (a short dependency chain), 2^n through the exponent bits.
// Within 2 ulp of std::exp.
template <class V>
SP_LANES_INLINE V exp_poly(const V& x) {
  using I = decltype(x < x);
  const I ni = __builtin_convertvector(x * 1.44269504088896341f - 0.5f, I);  // nearest n (truncation, x < 0.34)
  const V n = __builtin_convertvector(ni, V);
  const V r = (x - n * 0.693359375f) + n * 2.12194440e-4f;
  const V r2 = r * r, r4 = r2 * r2;
  const V p01 = 1.0f + r, p23 = 0.5f + r * (1.0f / 6.0f);
  const V p45 = (1.0f / 24.0f) + r * (1.0f / 120.0f), p67 = (1.0f / 720.0f) + r * (1.0f / 5040.0f);
  const V p = (p01 + r2 * p23) + r4 * (p45 + r2 * p67);
  return p * (V)((ni + 127) << 23);
}

template <class V>
constexpr bool kFloatLanes = std::is_same_v<std::remove_cvref_t<decltype(V{}[0])>, float>;

// e^x for x <= 0 (inputs above 0 count as 0; float inputs below -87 as -87): exp_poly for
// float lanes, std::exp per lane for double.
template <class V>
SP_LANES_INLINE V exp_nonpositive(const V& in) {
  if constexpr (kFloatLanes<V>) {
    const V lo = broadcast<V>(-87.0f), zero = V{};
    V x = in < lo ? lo : in;
    x = x > zero ? zero : x;
    return exp_poly(x);
  } else {
    V x = in;
    for (size_t l = 0; l < sizeof(V) / sizeof(x[0]); ++l) x[l] = std::exp(std::min(x[l], 0.0));
    return x;
  }
}

// The exponent q = ½ dᵀ conic d along one row (dy fixed) as a polynomial in dx:
// q = (A dx + B) dx + C.
template <class T>
struct RowQuadratic {
  T A, B, C;
};
template <class T>
SP_LANES_INLINE RowQuadratic<T> row_quadratic(const SplatT<T>& s, T dy) {
  return {T(0.5) * s.conic_a, s.conic_b * dy, T(0.5) * s.conic_c * dy * dy};
}

// q for one lane group; lanes beyond s.q_max cannot reach α >= 1/255, so a group with no
// other lane is skipped whole (the same decision the α test would make, lane by lane).
template <class T, class V>
SP_LANES_INLINE V splat_exponent(const RowQuadratic<T>& rq, const V& dx) {
  return (rq.A * dx + rq.B) * dx + rq.C;
}

// G = e^−q, o·G and α = min(0.99, o·G) for one lane group: one definition, so forward and
// backward agree bit for bit. Beyond q = 30 (e^-30 ~ 1e-13, far below the 1/255 threshold;
// every use of G is masked there) G is exactly 0, which also keeps later products out of
// the (slow) denormal range.
template <class T, class V>
SP_LANES_INLINE void splat_alpha(const SplatT<T>& s, const V& q, V& G, V& oG, V& alpha) {
  const V far = broadcast<V>(BlendConstants<T>::kFarExponent);
  if constexpr (kFloatLanes<V>) {
    const V x = -q, lo = broadcast<V>(T(-31));
    G = q > far ? V{} : exp_poly(x < lo ? lo : x);
  } else {
    G = q > far ? V{} : exp_nonpositive(-q);
  }
  oG = s.opacity * G;
  const V max_alpha = broadcast<V>(BlendConstants<T>::kMaxAlpha);
  alpha = oG < max_alpha ? oG : max_alpha;
}

template <class T>
inline T sigmoid(T x) {
  return T(1) / (T(1) + std::exp(-x));
}

// The exact ellipse / tile test of tile_bounds.h on a splat record.
template <class T>
EllipseTileTestT<T> ellipse_tile_test(const SplatT<T>& s) {
  return EllipseTileTestT<T>(s.mean_x, s.mean_y, s.conic_a, s.conic_b, s.conic_c, s.q_max);
}

// Order-preserving 32-bit key of a float depth (ties keep the index order in a stable sort).
inline uint32_t depth_key(float z) {
  const uint32_t b = std::bit_cast<uint32_t>(z);
  return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
}

// Stable LSD radix sort of `ids` by `keys` (bytes where all keys agree are skipped).
void radix_sort(std::vector<uint32_t>& keys, std::vector<uint32_t>& ids, std::vector<uint32_t>& keys_tmp,
                std::vector<uint32_t>& ids_tmp) {
  const size_t n = keys.size();
  keys_tmp.resize(n);
  ids_tmp.resize(n);
  for (int shift = 0; shift < 32; shift += 8) {
    size_t count[257] = {};
    for (size_t i = 0; i < n; ++i) ++count[((keys[i] >> shift) & 255u) + 1];
    if (std::any_of(count + 1, count + 257, [&](size_t c) { return c == n; })) continue;
    for (int b = 0; b < 256; ++b) count[b + 1] += count[b];
    for (size_t i = 0; i < n; ++i) {
      const size_t dst = count[(keys[i] >> shift) & 255u]++;
      keys_tmp[dst] = keys[i];
      ids_tmp[dst] = ids[i];
    }
    keys.swap(keys_tmp);
    ids.swap(ids_tmp);
  }
}

int stored_sh_degree(int coeffs) {
  int d = 0;
  while (d < 3 && sh_coeff_count(d + 1) <= coeffs) ++d;
  return d;
}

// Per-thread planar buffers of one 16x16 tile (row stride 16).
template <class T>
struct TileBuffers {
  using Int = LaneInt<T>;
  explicit TileBuffers(int extra_channels) : extras(size_t(extra_channels) * kTilePixels) {}
  alignas(64) T trans[kTilePixels];
  alignas(64) T acc[4][kTilePixels];  // forward: r, g, b, depth; backward: dL/d(r, g, b, depth)
  alignas(64) T suffix[kTilePixels];  // backward: Σ over later entries of v α T
  alignas(64) T tail[kTilePixels];    // backward: (bg·dL/dC − dL/dA) T_final
  alignas(64) Int last[kTilePixels];  // 1 + list position of the last blended entry
  alignas(64) Int live[kTilePixels];  // forward: -1 while the pixel still blends, else 0
  alignas(64) T lane_x[kTileSize];   // pixel-centre x of each column
  alignas(64) T row_w[kTileSize];    // backward: weights α T of the current row
  int row_count[kTileSize];          // forward: live pixels per row; backward: max last per row
  std::vector<T> extras;             // E x 256: forward accumulators / backward dL/dF
};

template <class T>
struct BlendInputs {
  const TileRenderStateT<T>* state;
  const T* extras;  // N x E Gaussian channels
  Vec3T<T> background;
};

template <class T, int B>
SP_LANES_INLINE void blend_tile_forward(const BlendInputs<T>& in, int tile, TileBuffers<T>& tb, TileRenderT<T>& out) {
  using V = typename Lanes<T, B>::V;
  using I = typename Lanes<T, B>::I;
  using Int = LaneInt<T>;
  using C = BlendConstants<T>;
  constexpr int L = Lanes<T, B>::kWidth;
  const TileRenderStateT<T>& st = *in.state;
  const int W = st.width, H = st.height, E = st.extra_channels;
  const int x0 = (tile % st.tiles_x) * kTileSize, y0 = (tile / st.tiles_x) * kTileSize;
  const int nx = std::min(kTileSize, W - x0), ny = std::min(kTileSize, H - y0);

  for (int p = 0; p < kTilePixels; ++p) {
    tb.trans[p] = T(1);
    tb.acc[0][p] = tb.acc[1][p] = tb.acc[2][p] = tb.acc[3][p] = T(0);
    tb.last[p] = 0;
    tb.live[p] = (p % kTileSize < nx && p / kTileSize < ny) ? Int(-1) : Int(0);
  }
  std::fill(tb.extras.begin(), tb.extras.end(), T(0));
  for (int x = 0; x < kTileSize; ++x) tb.lane_x[x] = T(x0 + x) + T(0.5);
  for (int y = 0; y < kTileSize; ++y) tb.row_count[y] = y < ny ? nx : 0;
  int remaining = nx * ny;
  const V min_alpha = broadcast<V>(C::kMinAlpha), min_trans = broadcast<V>(C::kMinTransmittance);

  const uint32_t begin = st.tile_offsets[tile], count = st.tile_offsets[tile + 1] - begin;
  const uint32_t* list = st.tile_entries.data() + begin;
  for (uint32_t j = 0; j < count && remaining > 0; ++j) {
    if (j + kPrefetch < count) {
      __builtin_prefetch(&st.splats[list[j + kPrefetch]]);
      __builtin_prefetch(&st.colors[3 * list[j + kPrefetch]]);
    }
    const uint32_t id = list[j];
    const SplatT<T> s = st.splats[id];
    const int ya = std::max(s.row_min - y0, 0), yb = std::min(s.row_max - y0, ny - 1);
    const T cr = st.colors[3 * id], cg = st.colors[3 * id + 1], cb = st.colors[3 * id + 2], z = s.depth;
    const I entry = broadcast<I>(Int(j + 1));
    const T* f = E > 0 ? in.extras + size_t(id) * E : nullptr;
    I stopped{};  // lanes where some pixel stopped during this entry
    for (int y = ya; y <= yb; ++y) {
      if (tb.row_count[y] == 0) continue;
      const T dy = s.mean_y - (T(y0 + y) + T(0.5));
      const RowQuadratic<T> rq = row_quadratic(s, dy);
      const V q_max = broadcast<V>(s.q_max);
      for (int x = 0; x < kTileSize; x += L) {
        const int p = y * kTileSize + x;
        const V dx = s.mean_x - load<V>(tb.lane_x + x);
        const V q = splat_exponent(rq, dx);
        const I live = load<I>(tb.live + p);
        if (!any_lane(live & (q <= q_max))) continue;  // no live pixel can reach α >= 1/255
        V G, oG, alpha;
        splat_alpha(s, q, G, oG, alpha);
        const I ok = live & (q >= V{}) & (alpha >= min_alpha);
        const V t = load<V>(tb.trans + p);
        const V t_next = t * (T(1) - alpha);
        const I stop = ok & (t_next < min_trans);  // INRIA: not blended, and the pixel is done
        const I blend = ok & ~stop;
        const V w = blend ? alpha * t : V{};
        store(tb.trans + p, blend ? t_next : t);
        store(tb.acc[0] + p, load<V>(tb.acc[0] + p) + w * cr);
        store(tb.acc[1] + p, load<V>(tb.acc[1] + p) + w * cg);
        store(tb.acc[2] + p, load<V>(tb.acc[2] + p) + w * cb);
        store(tb.acc[3] + p, load<V>(tb.acc[3] + p) + w * z);
        store(tb.last + p, blend ? entry : load<I>(tb.last + p));
        store(tb.live + p, live & ~stop);
        stopped |= stop;
        for (int k = 0; k < E; ++k) {
          T* e = tb.extras.data() + size_t(k) * kTilePixels + p;
          store(e, load<V>(e) + w * f[k]);
        }
      }
    }
    // Pixels stop once each: recount the live pixels only when some did (no per-row
    // horizontal sums on the hot path).
    if (any_lane(stopped)) {
      remaining = 0;
      for (int y = 0; y < kTileSize; ++y) {
        if (y >= ya && y <= yb) {
          int n = 0;
          for (int x = 0; x < kTileSize; ++x) n += tb.live[y * kTileSize + x] != 0 ? 1 : 0;
          tb.row_count[y] = n;
        }
        remaining += tb.row_count[y];
      }
    }
  }

  for (int y = 0; y < ny; ++y)
    for (int x = 0; x < nx; ++x) {
      const int p = y * kTileSize + x;
      const size_t pix = size_t(y0 + y) * W + (x0 + x);
      const T t = tb.trans[p];
      for (int c = 0; c < 3; ++c) out.color[pix * 3 + c] = tb.acc[c][p] + t * in.background[c];
      out.depth[pix] = tb.acc[3][p];
      out.alpha[pix] = T(1) - t;
      for (int k = 0; k < E; ++k) out.extras[pix * E + k] = tb.extras[size_t(k) * kTilePixels + p];
      out.state.final_transmittance[pix] = t;
      out.state.last_entry[pix] = uint32_t(tb.last[p]);
    }
}

// Back-to-front walk of one tile. With v_i = c_i·dL/dC + z_i dL/dD + f_i·dL/dF (per pixel) and
// S_i = Σ_{j>i} v_j α_j T_j, the blending gives
//   dL/dα_i = T_i v_i − (S_i + (bg·dL/dC − dL/dA) T_final) / (1 − α_i),
// and T_i = T_{i+1} / (1 − α_i) is recovered from the final transmittance. Sums over the
// tile's pixels go to the entry's slots in `entry_grads`.
template <class T, int B>
SP_LANES_INLINE void blend_tile_backward(const BlendInputs<T>& in, const TileOutputGradientsT<T>& g, int tile,
                                         TileBuffers<T>& tb, T* entry_grads) {
  using V = typename Lanes<T, B>::V;
  using I = typename Lanes<T, B>::I;
  using Int = LaneInt<T>;
  using C = BlendConstants<T>;
  constexpr int L = Lanes<T, B>::kWidth;
  const TileRenderStateT<T>& st = *in.state;
  const int W = st.width, H = st.height, E = st.extra_channels;
  const int stride = kEntrySlots + E;
  const int x0 = (tile % st.tiles_x) * kTileSize, y0 = (tile / st.tiles_x) * kTileSize;
  const int nx = std::min(kTileSize, W - x0), ny = std::min(kTileSize, H - y0);
  const uint32_t begin = st.tile_offsets[tile], count = st.tile_offsets[tile + 1] - begin;
  if (count == 0) return;

  int max_last = 0;
  for (int y = 0; y < kTileSize; ++y) {
    int row_max = 0;
    for (int x = 0; x < kTileSize; ++x) {
      const int p = y * kTileSize + x;
      tb.suffix[p] = T(0);
      if (x >= nx || y >= ny) {  // outside the image: never live
        tb.last[p] = 0;
        tb.trans[p] = T(1);
        tb.tail[p] = T(0);
        tb.acc[0][p] = tb.acc[1][p] = tb.acc[2][p] = tb.acc[3][p] = T(0);
        for (int k = 0; k < E; ++k) tb.extras[size_t(k) * kTilePixels + p] = T(0);
        continue;
      }
      const size_t pix = size_t(y0 + y) * W + (x0 + x);
      const T tf = st.final_transmittance[pix];
      T bg_dot = T(0);
      for (int c = 0; c < 3; ++c) {
        tb.acc[c][p] = g.color ? g.color[pix * 3 + c] : T(0);
        bg_dot += in.background[c] * tb.acc[c][p];
      }
      tb.acc[3][p] = g.depth ? g.depth[pix] : T(0);
      const T ga = g.alpha ? g.alpha[pix] : T(0);
      for (int k = 0; k < E; ++k) tb.extras[size_t(k) * kTilePixels + p] = g.extras ? g.extras[pix * E + k] : T(0);
      tb.trans[p] = tf;
      tb.tail[p] = (bg_dot - ga) * tf;
      tb.last[p] = Int(st.last_entry[pix]);
      row_max = std::max(row_max, int(tb.last[p]));
    }
    tb.row_count[y] = row_max;
    max_last = std::max(max_last, row_max);
  }
  for (int x = 0; x < kTileSize; ++x) tb.lane_x[x] = T(x0 + x) + T(0.5);
  const V min_alpha = broadcast<V>(C::kMinAlpha), max_alpha = broadcast<V>(C::kMaxAlpha);

  // Sums go to the entry's slot (gather order), so that the per-Gaussian reduction reads
  // contiguous memory; entries no pixel reached get zeros.
  const uint32_t* slot = st.entry_slot.data() + begin;
  for (uint32_t j = uint32_t(max_last); j < count; ++j) std::fill_n(entry_grads + size_t(slot[j]) * stride, stride, T(0));

  const uint32_t* list = st.tile_entries.data() + begin;
  for (int j = max_last - 1; j >= 0; --j) {
    if (j >= kPrefetch) {
      __builtin_prefetch(&st.splats[list[j - kPrefetch]]);
      __builtin_prefetch(&st.colors[3 * list[j - kPrefetch]]);
    }
    const uint32_t id = list[j];
    const SplatT<T> s = st.splats[id];
    const int ya = std::max(s.row_min - y0, 0), yb = std::min(s.row_max - y0, ny - 1);
    const T cr = st.colors[3 * id], cg = st.colors[3 * id + 1], cb = st.colors[3 * id + 2], z = s.depth;
    const T* f = E > 0 ? in.extras + size_t(id) * E : nullptr;
    const I entry = broadcast<I>(Int(j));
    T* out = entry_grads + size_t(slot[j]) * stride;
    for (int k = 0; k < E; ++k) out[kEntrySlots + k] = T(0);
    // Σ w dL/dC (3), Σ w dL/dD, Σ dL/do, and for the geometry Σ d_q·{dx, dx², dy, dx dy, dy²}.
    V a0{}, a1{}, a2{}, a3{}, a4{}, q_x{}, q_xx{}, q_y{}, q_xy{}, q_yy{};
    for (int y = ya; y <= yb; ++y) {
      if (tb.row_count[y] <= j) continue;
      const T dy = s.mean_y - (T(y0 + y) + T(0.5)), dy2 = dy * dy;
      const int o = y * kTileSize;
      const RowQuadratic<T> rq = row_quadratic(s, dy);
      const V q_max = broadcast<V>(s.q_max);
      for (int x = 0; x < kTileSize; x += L) {
        const int p = o + x;
        const V dx = s.mean_x - load<V>(tb.lane_x + x);
        const V q = splat_exponent(rq, dx);
        const I reached = entry < load<I>(tb.last + p);  // the pixel's walk got this far
        if (!any_lane(reached & (q <= q_max))) {
          store(tb.row_w + x, V{});
          continue;
        }
        V G, oG, alpha;
        splat_alpha(s, q, G, oG, alpha);
        const I ok = reached & (q >= V{}) & (alpha >= min_alpha);
        const V gr = load<V>(tb.acc[0] + p), gg = load<V>(tb.acc[1] + p), gb = load<V>(tb.acc[2] + p),
                gd = load<V>(tb.acc[3] + p);
        V v = cr * gr + cg * gg + cb * gb + z * gd;
        for (int k = 0; k < E; ++k) v += f[k] * load<V>(tb.extras.data() + size_t(k) * kTilePixels + p);
        const V inv_one_minus = T(1) / (T(1) - alpha);
        const V trans = load<V>(tb.trans + p), suffix = load<V>(tb.suffix + p);
        const V t = trans * inv_one_minus;  // transmittance in front of this entry
        const V w = ok ? alpha * t : V{};
        const V d_alpha = t * v - (suffix + load<V>(tb.tail + p)) * inv_one_minus;
        store(tb.suffix + p, ok ? suffix + v * w : suffix);
        store(tb.trans + p, ok ? t : trans);
        const I through = ok & (oG <= max_alpha);  // α clamped at 0.99 passes no gradient
        const V d_q = through ? -d_alpha * oG : V{};
        store(tb.row_w + x, w);
        a0 += w * gr;
        a1 += w * gg;
        a2 += w * gb;
        a3 += w * gd;
        a4 += through ? d_alpha * G : V{};
        const V qdx = d_q * dx;
        q_x += qdx;
        q_xx += qdx * dx;
        q_y += dy * d_q;
        q_xy += dy * qdx;
        q_yy += dy2 * d_q;
      }
      for (int k = 0; k < E; ++k) {
        const T* ge = tb.extras.data() + size_t(k) * kTilePixels + o;
        V ak{};
        for (int x = 0; x < kTileSize; x += L) ak += load<V>(tb.row_w + x) * load<V>(ge + x);
        out[kEntrySlots + k] += lane_sum(ak);
      }
    }
    out[0] = lane_sum(a0);
    out[1] = lane_sum(a1);
    out[2] = lane_sum(a2);
    out[3] = lane_sum(a3);
    out[4] = lane_sum(a4);
    // q = ½(a dx² + c dy²) + b dx dy with dx = mean_x − pixel: dq/dmean = (a dx + b dy, b dx + c dy).
    const T sx = lane_sum(q_x), sy = lane_sum(q_y);
    out[5] = s.conic_a * sx + s.conic_b * sy;
    out[6] = s.conic_b * sx + s.conic_c * sy;
    out[7] = T(0.5) * lane_sum(q_xx);
    out[8] = lane_sum(q_xy);
    out[9] = T(0.5) * lane_sum(q_yy);
  }
}

// The kernels at each vector width: compiled once for the baseline ISA (16-byte vectors) and,
// on x86-64, for 32 bytes with AVX2 + FMA (and again with AVX-512VL's registers). pick()
// chooses at run time, once per pass, so results are bit-identical for any thread count on a
// given machine; the 16- and 32-byte paths agree to float rounding.
template <class T>
struct TileKernels {
  void (*forward)(const BlendInputs<T>&, int, TileBuffers<T>&, TileRenderT<T>&);
  void (*backward)(const BlendInputs<T>&, const TileOutputGradientsT<T>&, int, TileBuffers<T>&, T*);
  static TileKernels pick(int max_vector_bytes, bool allow_avx512);
};

template <class T>
void forward_16(const BlendInputs<T>& in, int tile, TileBuffers<T>& tb, TileRenderT<T>& out) {
  blend_tile_forward<T, 16>(in, tile, tb, out);
}
template <class T>
void backward_16(const BlendInputs<T>& in, const TileOutputGradientsT<T>& g, int tile, TileBuffers<T>& tb, T* eg) {
  blend_tile_backward<T, 16>(in, g, tile, tb, eg);
}

#if defined(__x86_64__)
#define SP_AVX2 __attribute__((target("avx2,fma")))
// The same 8-lane code with AVX-512VL enabled: 32 vector registers instead of 16, so the
// backward kernel's accumulators stay in registers (~12% faster on Zen 4).
#define SP_AVX512VL __attribute__((target("avx2,fma,avx512f,avx512vl,avx512dq,avx512bw")))
SP_AVX2 void forward_avx2(const BlendInputs<float>& in, int tile, TileBuffers<float>& tb, TileRenderT<float>& out) {
  blend_tile_forward<float, 32>(in, tile, tb, out);
}
SP_AVX2 void backward_avx2(const BlendInputs<float>& in, const TileOutputGradientsT<float>& g, int tile,
                           TileBuffers<float>& tb, float* eg) {
  blend_tile_backward<float, 32>(in, g, tile, tb, eg);
}
SP_AVX512VL void forward_avx512vl(const BlendInputs<float>& in, int tile, TileBuffers<float>& tb,
                                  TileRenderT<float>& out) {
  blend_tile_forward<float, 32>(in, tile, tb, out);
}
SP_AVX512VL void backward_avx512vl(const BlendInputs<float>& in, const TileOutputGradientsT<float>& g, int tile,
                                   TileBuffers<float>& tb, float* eg) {
  blend_tile_backward<float, 32>(in, g, tile, tb, eg);
}
#undef SP_AVX2
#undef SP_AVX512VL
template <>
TileKernels<float> TileKernels<float>::pick(int max_vector_bytes, bool allow_avx512) {
  if (max_vector_bytes >= 32 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    if (allow_avx512 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw"))
      return {forward_avx512vl, backward_avx512vl};
    return {forward_avx2, backward_avx2};
  }
  return {forward_16<float>, backward_16<float>};
}
#else
template <>
TileKernels<float> TileKernels<float>::pick(int, bool) {
  return {forward_16<float>, backward_16<float>};
}
#endif
template <>
TileKernels<double> TileKernels<double>::pick(int, bool) {
  return {forward_16<double>, backward_16<double>};
}

#undef SP_LANES_INLINE

}  // namespace

float blend_exp(float x) {
  using V = Lanes<float, 16>::V;
  return exp_nonpositive(broadcast<V>(x))[0];
}
double blend_exp(double x) {
  using V = Lanes<double, 16>::V;
  return exp_nonpositive(broadcast<V>(x))[0];
}

template <class T>
void TileRasterizerT<T>::forward(const Camera& camera, const GaussianParamsT<T>& params,
                                 const RenderOptions& options, TileRenderT<T>& out, const T* mean2d_offsets) {
  check_render_inputs("CPU", camera, params, size_t(std::numeric_limits<uint32_t>::max()));
  const int W = camera.width, H = camera.height;
  const size_t N = params.count;
  const int E = params.extra_channels, K = params.sh_coeffs;
  const int degree = std::clamp(options.sh_degree, 0, stored_sh_degree(K));
  const ProjectionCameraT<T> cam = projection_camera<T>(camera, options.near_plane);

  TileRenderStateT<T>& st = out.state;
  st.width = W;
  st.height = H;
  st.tiles_x = (W + kTileSize - 1) / kTileSize;
  st.tiles_y = (H + kTileSize - 1) / kTileSize;
  st.sh_degree = degree;
  st.extra_channels = E;
  const int tiles_x = st.tiles_x, tiles_y = st.tiles_y, n_tiles = tiles_x * tiles_y;
  st.splats.resize(N);
  st.colors.resize(N * 3);
  st.clamped.resize(N * 3);
  out.radii.resize(N);
  tile_count_.resize(N);
  tile_source_.resize(N);
  thread_tiles_.resize(size_t(std::max(1, omp_get_max_threads())));
  for (auto& t : thread_tiles_) t.tiles.clear();

  // 1. Project every Gaussian and list the tiles it can colour (in its thread's buffer).
#pragma omp parallel for schedule(dynamic, 256) if (N >= kParallelGaussians)
  for (ptrdiff_t ii = 0; ii < ptrdiff_t(N); ++ii) {
    const size_t i = size_t(ii);
    tile_count_[i] = 0;
    out.radii[i] = 0;
    ProjectedGaussianT<T> pg;
    if (!project_gaussian(cam, params.means + i * 3, params.log_scales + i * 3, params.rotations + i * 4, pg))
      continue;
    if (mean2d_offsets) {
      pg.mean2d.x += mean2d_offsets[i * 2];
      pg.mean2d.y += mean2d_offsets[i * 2 + 1];
    }
    // Tiles of the 3σ box ∩ the α >= 1/255 ellipse's box (tile_bounds.h). Off the image:
    // culled, radius 0 (INRIA); faint: radius and colour kept, no tile entries.
    const T opacity = sigmoid(params.opacities[i]);
    const SplatFootprintT<T> fp = splat_footprint(pg.mean2d, pg.radius, pg.cov2d, opacity, W, H);
    if (fp.kind == Footprint::OffImage) continue;
    out.radii[i] = pg.radius;

    const Vec3T<T> dir = Vec3T<T>(params.means[i * 3], params.means[i * 3 + 1], params.means[i * 3 + 2]) - cam.center;
    bool clamped[3];
    const Vec3T<T> rgb = sh_to_color(degree, params.sh + i * size_t(K) * 3, dir, clamped);
    for (int c = 0; c < 3; ++c) {
      st.colors[i * 3 + c] = rgb[c];
      st.clamped[i * 3 + c] = clamped[c] ? 1 : 0;
    }
    if (fp.kind != Footprint::Listed) continue;

    SplatT<T>& s = st.splats[i];
    s = {pg.mean2d.x, pg.mean2d.y, pg.conic.a, pg.conic.b, pg.conic.c, opacity, pg.depth, fp.q_max, fp.row0, fp.row1};
    const int thread = omp_get_thread_num();
    std::vector<uint32_t>& mine = thread_tiles_[size_t(thread)].tiles;
    const size_t first = mine.size();
    const EllipseTileTestT<T> touches = ellipse_tile_test(s);
    for (int ty = fp.tiles.y0; ty < fp.tiles.y1; ++ty)
      for (int tx = fp.tiles.x0; tx < fp.tiles.x1; ++tx)
        if (touches(tx, ty, W, H)) mine.push_back(uint32_t(ty * tiles_x + tx));
    tile_count_[i] = uint32_t(mine.size() - first);
    tile_source_[i] = {uint32_t(thread), first};
  }

  // The binning below is cheap and runs serially: no more synchronization points, which
  // stall whenever another process holds a core.
  // 2. Each Gaussian's entries get consecutive slots ("gather order").
  st.gather_offsets.resize(N + 1);
  uint64_t total = 0;
  for (size_t i = 0; i < N; ++i) {
    st.gather_offsets[i] = uint32_t(total);
    total += tile_count_[i];
  }
  if (total >= uint64_t(std::numeric_limits<uint32_t>::max()))
    throw_internal("CPU rasterizer: more than 4G tile entries");
  st.gather_offsets[N] = uint32_t(total);

  // 3. Gaussians with entries, sorted front to back (stable: ties keep index order).
  order_.clear();
  keys_.clear();
  for (size_t i = 0; i < N; ++i)
    if (tile_count_[i] > 0) {
      order_.push_back(uint32_t(i));
      keys_.push_back(depth_key(float(st.splats[i].depth)));
    }
  radix_sort(keys_, order_, keys_tmp_, order_tmp_);

  // 4. Per-tile lists, filled in sorted order: each is front to back.
  auto tiles_of = [&](uint32_t id) { return thread_tiles_[tile_source_[id].thread].tiles.data() + tile_source_[id].first; };
  st.tile_offsets.assign(size_t(n_tiles) + 1, 0);
  for (const uint32_t id : order_) {
    const uint32_t* tiles = tiles_of(id);
    for (uint32_t k = 0; k < tile_count_[id]; ++k) ++st.tile_offsets[tiles[k] + 1];
  }
  for (int t = 0; t < n_tiles; ++t) st.tile_offsets[t + 1] += st.tile_offsets[t];
  tile_cursor_.assign(st.tile_offsets.begin(), st.tile_offsets.end() - 1);
  st.tile_entries.resize(total);
  st.entry_slot.resize(total);
  for (const uint32_t id : order_) {
    const uint32_t* tiles = tiles_of(id);
    for (uint32_t k = 0; k < tile_count_[id]; ++k) {
      const uint32_t pos = tile_cursor_[tiles[k]]++;
      st.tile_entries[pos] = id;
      st.entry_slot[pos] = st.gather_offsets[id] + k;
    }
  }

  // 5. Blend the tiles.
  const size_t P = size_t(W) * H;
  out.color.resize(P * 3);
  out.depth.resize(P);
  out.alpha.resize(P);
  out.extras.resize(P * size_t(E));
  st.final_transmittance.resize(P);
  st.last_entry.resize(P);
  const BlendInputs<T> in{&st, params.extras, Vec3T<T>(options.background)};
  const TileKernels<T> kernels = TileKernels<T>::pick(max_vector_bytes, allow_avx512);
#pragma omp parallel if (total >= kParallelEntries)
  {
    auto tb = std::make_unique<TileBuffers<T>>(E);
#pragma omp for schedule(dynamic, 1)
    for (int t = 0; t < n_tiles; ++t) kernels.forward(in, t, *tb, out);
  }
}

template <class T>
void TileRasterizerT<T>::backward(const Camera& camera, const GaussianParamsT<T>& params,
                                  const RenderOptions& options, const TileRenderStateT<T>& st,
                                  const TileOutputGradientsT<T>& output_grads, GaussianGradientsT<T>& grads) {
  const size_t N = params.count;
  const int E = params.extra_channels, K = params.sh_coeffs;
  if (st.width != camera.width || st.height != camera.height || st.splats.size() != N ||
      st.extra_channels != E || st.gather_offsets.size() != N + 1)
    throw_internal("CPU rasterizer: backward called with a state from another forward pass");
  const int degree = st.sh_degree;
  const ProjectionCameraT<T> cam = projection_camera<T>(camera, options.near_plane);
  const int n_tiles = st.tiles_x * st.tiles_y;
  const int stride = kEntrySlots + E;

  grads.resize(N, K, E);

  // 1. Per tile entry: sums over the tile's pixels.
  entry_grads_.resize(size_t(st.tile_entries.size()) * stride);
  const BlendInputs<T> in{&st, params.extras, Vec3T<T>(options.background)};
  const TileKernels<T> kernels = TileKernels<T>::pick(max_vector_bytes, allow_avx512);
#pragma omp parallel if (st.tile_entries.size() >= kParallelEntries)
  {
    auto tb = std::make_unique<TileBuffers<T>>(E);
#pragma omp for schedule(dynamic, 1)
    for (int t = 0; t < n_tiles; ++t) kernels.backward(in, output_grads, t, *tb, entry_grads_.data());
  }

  // 2. Per Gaussian: reduce its entries in tile order, then chain through SH and projection.
#pragma omp parallel if (N >= kParallelGaussians)
  {
    std::vector<T> acc(static_cast<size_t>(stride));
#pragma omp for schedule(dynamic, 256)
    for (ptrdiff_t ii = 0; ii < ptrdiff_t(N); ++ii) {
      const size_t i = size_t(ii);
      T* d_sh = grads.sh.data() + i * size_t(K) * 3;
      std::fill(d_sh, d_sh + size_t(K) * 3, T(0));
      const uint32_t b = st.gather_offsets[i], e = st.gather_offsets[i + 1];
      std::fill(acc.begin(), acc.end(), T(0));
      for (uint32_t m = b; m < e; ++m) {
        const T* src = entry_grads_.data() + size_t(m) * stride;
        for (int k = 0; k < stride; ++k) acc[k] += src[k];
      }
      for (int k = 0; k < E; ++k) grads.extras[i * E + k] = acc[kEntrySlots + k];
      grads.means2d[i * 2] = acc[5];
      grads.means2d[i * 2 + 1] = acc[6];
      Vec3T<T> d_mean(T(0));
      T* d_log_scale = grads.log_scales.data() + i * 3;
      T* d_quat = grads.rotations.data() + i * 4;
      if (b == e) {  // no pixel saw this Gaussian
        grads.opacities[i] = T(0);
        std::fill(d_log_scale, d_log_scale + 3, T(0));
        std::fill(d_quat, d_quat + 4, T(0));
      } else {
        const T o = st.splats[i].opacity;
        grads.opacities[i] = acc[4] * o * (T(1) - o);
        const T* mean = params.means + i * 3;
        const bool clamped[3] = {st.clamped[i * 3] != 0, st.clamped[i * 3 + 1] != 0, st.clamped[i * 3 + 2] != 0};
        sh_to_color_backward(degree, params.sh + i * size_t(K) * 3, Vec3T<T>(mean[0], mean[1], mean[2]) - cam.center,
                             Vec3T<T>(acc[0], acc[1], acc[2]), clamped, d_sh, d_mean);
        ProjectionGradientT<T> pg;
        pg.mean2d = Vec2T<T>(acc[5], acc[6]);
        pg.depth = acc[3];
        pg.conic = {acc[7], acc[8], acc[9]};
        project_gaussian_backward(cam, mean, params.log_scales + i * 3, params.rotations + i * 4, pg, d_mean,
                                  d_log_scale, d_quat);
      }
      for (int c = 0; c < 3; ++c) grads.means[i * 3 + c] = d_mean[c];
    }
  }
}

template class TileRasterizerT<float>;
template class TileRasterizerT<double>;

// ---- the Rasterizer interface over the float instance --------------------------------

namespace {

struct CpuRenderState final : RenderState {
  TileRenderStateT<float> tiles;
};

Image wrap(std::vector<float>&& pixels, int width, int height, int channels) {
  Image image;
  image.width = width;
  image.height = height;
  image.channels = channels;
  image.pixels = std::move(pixels);
  return image;
}

class CpuTileRasterizer final : public Rasterizer {
 public:
  const char* name() const override { return "cpu"; }

  RenderOutput forward(const Camera& camera, const GaussianParams& params, const RenderOptions& options) override {
    TileRenderT<float> r;
    impl_.forward(camera, params, options, r);
    RenderOutput out;
    const int W = camera.width, H = camera.height, E = params.extra_channels;
    out.color = wrap(std::move(r.color), W, H, 3);
    out.depth = wrap(std::move(r.depth), W, H, 1);
    out.alpha = wrap(std::move(r.alpha), W, H, 1);
    if (E > 0) out.extras = wrap(std::move(r.extras), W, H, E);
    out.radii = std::move(r.radii);
    auto state = std::make_shared<CpuRenderState>();
    state->tiles = std::move(r.state);
    out.state = std::move(state);
    return out;
  }

  void backward(const Camera& camera, const GaussianParams& params, const RenderOptions& options,
                const RenderOutput& forward_output, const OutputGradients& output_grads,
                GaussianGradients& grads) override {
    const auto* state = dynamic_cast<const CpuRenderState*>(forward_output.state.get());
    if (!state) throw_internal("CPU rasterizer backward: the forward output does not come from the CPU rasterizer");
    const int W = camera.width, H = camera.height, E = params.extra_channels;
    check_gradient_image("CPU", output_grads.color, W, H, 3, "color");
    check_gradient_image("CPU", output_grads.depth, W, H, 1, "depth");
    check_gradient_image("CPU", output_grads.alpha, W, H, 1, "alpha");
    if (E > 0) check_gradient_image("CPU", output_grads.extras, W, H, E, "extras");
    TileOutputGradientsT<float> g;
    g.color = output_grads.color ? output_grads.color->pixels.data() : nullptr;
    g.depth = output_grads.depth ? output_grads.depth->pixels.data() : nullptr;
    g.alpha = output_grads.alpha ? output_grads.alpha->pixels.data() : nullptr;
    g.extras = (E > 0 && output_grads.extras) ? output_grads.extras->pixels.data() : nullptr;
    impl_.backward(camera, params, options, state->tiles, g, grads);
  }

 private:
  TileRasterizerT<float> impl_;
};

}  // namespace

std::unique_ptr<Rasterizer> make_cpu_rasterizer() { return std::make_unique<CpuTileRasterizer>(); }

}  // namespace sp
