// Language field building blocks: NPY element types, top-K codes and their gradient, the
// cosine loss's gradients (finite differences in double), sparse splatting against the dense
// extra-channel render, and no-decode relevance against decoding.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "engine/core/rng.h"
#include "engine/io/npy.h"
#include "engine/language/feature_maps.h"
#include "engine/language/language_field.h"
#include "engine/language/language_loss.h"
#include "engine/language/relevance.h"
#include "engine/language/sparse_splat.h"
#include "engine/render/tile_rasterizer_cpu.h"
#include "engine/io/gaussian_ply.h"
#include "render/render_test_scene.h"
#include "support/fuzz.h"
#include "support/test_support.h"

namespace sp {
namespace {

template <class T>
std::string raw_of(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

TEST(LanguageNpy, ReadsHalfAndIntegerTypesInEveryVersion) {
  // float16: 1, -2, 0.5, 65504 (max), 2^-24 (smallest subnormal), -0.
  const std::vector<uint16_t> half = {0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x8000};
  const double expect_half[] = {1.0, -2.0, 0.5, 65504.0, std::ldexp(1.0, -24), 0.0};
  for (int version = 1; version <= 3; ++version) {
    const NpyArray a = parse_npy(encode_npy_bytes({2, 3}, "<f2", raw_of(half), version), "h");
    ASSERT_EQ(a.shape, (std::vector<size_t>{2, 3}));
    for (size_t i = 0; i < 6; ++i) EXPECT_EQ(a.data[i], expect_half[i]) << i;
  }
  EXPECT_EQ(parse_npy(encode_npy_bytes({2}, "<i2", raw_of(std::vector<int16_t>{-32768, 7})), "i").data[0], -32768.0);
  EXPECT_EQ(parse_npy(encode_npy_bytes({2}, "<u2", raw_of(std::vector<uint16_t>{65535, 1})), "u").data[0], 65535.0);
  EXPECT_EQ(parse_npy(encode_npy_bytes({1}, "<u4", raw_of(std::vector<uint32_t>{4000000000u})), "u").data[0], 4e9);
  EXPECT_EQ(parse_npy(encode_npy_bytes({1}, "<u8", raw_of(std::vector<uint64_t>{1ull << 40})), "u").data[0],
            std::ldexp(1.0, 40));
  EXPECT_EQ(parse_npy(encode_npy_bytes({1}, "<i8", raw_of(std::vector<int64_t>{-5}), 3), "i").data[0], -5.0);
  EXPECT_EQ(parse_npy(encode_npy_bytes({1}, "=f4", raw_of(std::vector<float>{2.5f})), "f").data[0], 2.5);
  test::expect_bad_input([&] { parse_npy(encode_npy_bytes({1}, "|f4", raw_of(std::vector<float>{1})), "f"); }, "not supported");
  test::expect_bad_input([&] { parse_npy(encode_npy_bytes({1}, ">f2", raw_of(half).substr(0, 2)), "f"); }, "big-endian");
  test::expect_bad_input([&] { parse_npy(encode_npy_bytes({4}, "<f2", raw_of(half).substr(0, 6)), "f"); }, "needs 8");
}

TEST(LanguageNpy, FuzzedHalfAndSegmentFilesNeverCrash) {
  std::vector<uint16_t> half(24);
  for (size_t i = 0; i < half.size(); ++i) half[i] = uint16_t(0x3000 + 37 * i);
  auto s = test::fuzz_parser(encode_npy_bytes({4, 6}, "<f2", raw_of(half), 2), [](const std::string& b) { parse_npy(b, "f16"); },
                             {.mutations = 400, .seed = 11});
  std::printf("[fuzz] f16 .npy: %zu calls, %zu accepted, %zu rejected\n", s.calls, s.accepted, s.rejected);
  EXPECT_GT(s.accepted, 0u);
  EXPECT_GT(s.rejected, 0u);
  std::vector<int32_t> seg(2 * 3 * 4, -1);
  s = test::fuzz_parser(encode_npy_bytes({2, 3, 4}, "<i4", raw_of(seg), 3), [](const std::string& b) { parse_npy(b, "s"); },
                        {.mutations = 400, .seed = 12});
  std::printf("[fuzz] i4 .npy: %zu calls, %zu accepted, %zu rejected\n", s.calls, s.accepted, s.rejected);
  EXPECT_GT(s.accepted, 0u);
  EXPECT_GT(s.rejected, 0u);
}

TEST(LanguageCodes, TopKIsTheRenormalizedSoftmaxOfTheLargestLogits) {
  Rng rng(3);
  const int L = 16, K = 4;
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<float> z(L);
    for (auto& v : z) v = rng.normal(0, 2);
    uint16_t idx[K];
    float w[K];
    sparse_code(z.data(), L, K, idx, w);
    std::vector<int> order(L);
    for (int i = 0; i < L; ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return z[a] > z[b]; });
    double sum = 0;
    for (int k = 0; k < K; ++k) sum += std::exp(double(z[order[k]]));
    for (int k = 0; k < K; ++k) {
      EXPECT_EQ(idx[k], order[k]);
      EXPECT_NEAR(w[k], std::exp(double(z[order[k]])) / sum, 1e-6);
    }
  }
}

TEST(LanguageCodes, TopKSoftmaxGradientMatchesFiniteDifferences) {
  Rng rng(4);
  const int L = 12, K = 4;
  std::vector<double> z(L), g(L), dz(L);
  for (auto& v : z) v = rng.normal(0, 1.5);
  for (auto& v : g) v = rng.normal();
  sparse_code_backward(z.data(), L, K, g.data(), dz.data());
  // f(z) = g · dense(z); the selection stays fixed for a small step (no near-ties here).
  auto f = [&](const std::vector<double>& zz) {
    std::vector<float> zf(zz.begin(), zz.end());
    uint16_t idx[K];
    float wf[K];
    sparse_code(zf.data(), L, K, idx, wf);
    double top = zz[idx[0]], s = 0, r = 0;
    for (int k = 0; k < K; ++k) s += std::exp(zz[idx[k]] - top);
    for (int k = 0; k < K; ++k) r += g[idx[k]] * std::exp(zz[idx[k]] - top) / s;
    return r;
  };
  int nonzero = 0;
  for (int j = 0; j < L; ++j) {
    auto zp = z, zm = z;
    zp[j] += 1e-6;
    zm[j] -= 1e-6;
    const double fd = (f(zp) - f(zm)) / 2e-6;
    EXPECT_NEAR(dz[j], fd, 1e-7 + 1e-6 * std::abs(fd)) << j;
    nonzero += dz[j] != 0 ? 1 : 0;
  }
  EXPECT_EQ(nonzero, K);
}

TEST(LanguageLoss, GradientsMatchFiniteDifferencesInDouble) {
  Rng rng(5);
  const int L = 6, D = 10, R = 3;
  const size_t P = 40, stride = 2 * L + 1;  // codes embedded in a wider pixel record, as in the render
  std::vector<double> codes(P * stride), dict(size_t(L) * D);
  std::vector<float> feats(size_t(R) * D);
  std::vector<int> seg(P);
  for (auto& v : codes) v = rng.uniform(0, 1);
  for (auto& v : dict) v = rng.normal();
  for (int r = 0; r < R; ++r) {
    double n = 0;
    for (int d = 0; d < D; ++d) n += std::pow(feats[size_t(r) * D + d] = rng.normal(), 2);
    for (int d = 0; d < D; ++d) feats[size_t(r) * D + d] /= float(std::sqrt(n));
  }
  for (size_t p = 0; p < P; ++p) seg[p] = int(p % 4) - 1;  // -1 = no mask on some pixels
  for (size_t i = 0; i < size_t(L); ++i) codes[7 * stride + 3 + i] = 0;  // a pixel without feature
  LanguageLossInput<double> in{codes.data() + 3, stride, seg.data(), P, dict.data(), feats.data(), size_t(R), L, D};
  std::vector<double> gc(P * stride, -7.0), gd(size_t(L) * D);
  const double loss = language_loss(in, gc.data() + 3, gd.data());
  EXPECT_GT(loss, 0.0);
  auto eval = [&] { return language_loss<double>(in, nullptr, nullptr); };
  const double h = 1e-6;
  for (size_t p = 0; p < P; ++p)
    for (int i = 0; i < L; ++i) {
      double& x = codes[p * stride + 3 + size_t(i)];
      if (p == 7) {
        EXPECT_EQ(gc[p * stride + 3 + size_t(i)], 0.0);
        continue;
      }
      const double x0 = x;
      x = x0 + h;
      const double fp = eval();
      x = x0 - h;
      const double fm = eval();
      x = x0;
      EXPECT_NEAR(gc[p * stride + 3 + size_t(i)], (fp - fm) / (2 * h), 1e-8) << p << " " << i;
    }
  EXPECT_EQ(gc[0], -7.0);  // outside the L entries: untouched
  for (size_t k = 0; k < dict.size(); ++k) {
    const double x0 = dict[k];
    dict[k] = x0 + h;
    const double fp = eval();
    dict[k] = x0 - h;
    const double fm = eval();
    dict[k] = x0;
    EXPECT_NEAR(gd[k], (fp - fm) / (2 * h), 1e-8) << k;
  }
}

LanguageField random_field(size_t n, int levels, int L, int D, int K, uint64_t seed) {
  Rng rng(seed);
  LanguageField f;
  f.levels = levels;
  f.codes = L;
  f.dims = D;
  f.top_k = K;
  f.dictionary.resize(size_t(levels) * L * D);
  for (auto& v : f.dictionary) v = rng.normal();
  f.logits.resize(n * size_t(levels) * L);
  for (auto& v : f.logits) v = rng.normal(0, 2);
  return f;
}

double relative_error(const std::vector<float>& a, const std::vector<float>& b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    num += double(a[i] - b[i]) * double(a[i] - b[i]);
    den += double(b[i]) * double(b[i]);
  }
  return std::sqrt(num / std::max(den, 1e-300));
}

TEST(SparseSplat, EqualsTheDenseExtraChannelRender) {
  test::TestScene s = test::random_scene(21, 400, 70, 53, 1, 0);
  const LanguageField f = random_field(s.model.size(), 3, 16, 8, 4, 9);
  const SparseCodes codes = sparse_codes(f);
  const std::vector<float> dense = dense_codes(f);
  for (int bytes : {16, 32}) {
    TileRasterizerT<float> rast;
    rast.max_vector_bytes = bytes;
    GaussianParams p = params_of(s.model);
    TileRenderT<float> plain;
    rast.forward(s.camera, p, s.options, plain);
    const Image sparse = splat_sparse_codes(plain.state, codes);
    p.extra_channels = 3 * f.codes;
    p.extras = dense.data();
    TileRenderT<float> ref;
    rast.forward(s.camera, p, s.options, ref);
    ASSERT_EQ(sparse.pixels.size(), ref.extras.size());
    const double err = relative_error(sparse.pixels, ref.extras);
    std::printf("[sparse splat] %d-byte lanes: relative error %.3g\n", bytes, err);
    EXPECT_LE(err, 1e-5);
  }
}

QueryEmbeddings random_queries(int Q, int D, uint64_t seed) {
  Rng rng(seed);
  QueryEmbeddings q;
  q.dims = D;
  auto unit = [&](std::vector<float>& dst) {
    std::vector<float> v(static_cast<size_t>(D));
    double n = 0;
    for (auto& x : v) {
      x = rng.normal();
      n += double(x) * x;
    }
    for (auto& x : v) dst.push_back(float(x / std::sqrt(n)));
  };
  for (int i = 0; i < Q; ++i) {
    unit(q.queries);
    q.phrases.push_back("q" + std::to_string(i));
  }
  for (int i = 0; i < 4; ++i) unit(q.canonical);
  return q;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, double(std::abs(a[i] - b[i])));
  return m;
}

TEST(Relevance, NoDecodeEqualsDecodedRelevance) {
  test::TestScene s = test::random_scene(22, 300, 64, 48, 1, 0);
  const int D = 32;
  LanguageField f = random_field(s.model.size(), 3, 16, D, 4, 10);
  // Scale the dictionary so scores spread over (0, 1) instead of saturating.
  for (auto& v : f.dictionary) v *= 0.2f;
  const QueryEmbeddings q = random_queries(3, D, 11);
  TileRasterizerT<float> rast;
  TileRenderT<float> plain;
  rast.forward(s.camera, params_of(s.model), s.options, plain);
  const SparseCodes codes = sparse_codes(f);
  const Image code_image = splat_sparse_codes(plain.state, codes);
  const RelevanceMaps decoded = relevance_decoded(code_image, f, q);
  const RelevanceMaps nodecode = relevance_from_codes(code_image, f, q);
  const std::vector<float> proj = splat_sparse_projections(plain.state, codes, relevance_projection(f, q));
  const RelevanceMaps fused = relevance_from_projections(proj, s.camera.width, s.camera.height, f, q);
  const double e1 = relative_error(nodecode.values, decoded.values), e2 = relative_error(fused.values, decoded.values);
  std::printf("[relevance] no-decode vs decoded: relative %.3g (max %.3g); fused sparse: relative %.3g (max %.3g)\n", e1,
              max_abs_diff(nodecode.values, decoded.values), e2, max_abs_diff(fused.values, decoded.values));
  EXPECT_LE(e1, 1e-5);
  EXPECT_LE(e2, 1e-5);
  // Not a constant map: the check compares something.
  const auto [lo, hi] = std::minmax_element(decoded.values.begin(), decoded.values.end());
  EXPECT_GT(*hi - *lo, 0.1f);
}

TEST(LanguageField, PlyAndDictionaryRoundTrip) {
  test::TestScene s = test::random_scene(23, 50, 32, 24, 1, 0);
  const LanguageField f = random_field(s.model.size(), 3, 8, 5, 3, 12);
  GaussianModel m = s.model;
  store_language_field(m, f);
  const std::string dir = test::temp_dir("lang_ply");
  const std::string ply = dir + "/model.ply";
  write_gaussian_ply(ply, m);
  write_dictionary(dictionary_path_for(ply), f);
  const GaussianModel back = read_gaussian_ply(ply);
  const LanguageField g = load_language_field(back, dictionary_path_for(ply), 3);
  EXPECT_EQ(g.logits, f.logits);
  EXPECT_EQ(g.dictionary, f.dictionary);
  EXPECT_EQ(back.means, m.means);
  test::expect_bad_input([&] { load_language_field(s.model, dictionary_path_for(ply), 3); }, "extra channels");
  test::expect_bad_input([&] { load_language_field(back, dictionary_path_for(ply), 9); }, "top-K");
}

TEST(LanguageTargets, ReadsLangSplatFilesAndRejectsBadIds) {
  const std::string dir = test::temp_dir("lang_targets");
  const int D = 4, W = 6, H = 4;
  std::vector<float> feats = {1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 3, 0};
  std::vector<float> planes(size_t(4) * W * H, -1.0f);
  for (int p = 0; p < 4; ++p) planes[size_t(p) * W * H + 5] = float(p % 3);
  write_language_targets(dir, "img_01.png", feats, D, planes, 4, W, H);
  const LanguageTargets t = load_language_targets(dir, "img_01.png", W, H);
  EXPECT_EQ(t.rows(), 3u);
  EXPECT_FLOAT_EQ(t.features[5], 1.0f);  // unit length
  EXPECT_EQ(t.segments[0][5], 1);        // plane 1 = level s
  EXPECT_EQ(t.segments[2][5], 0);
  EXPECT_EQ(t.segments[1][4], -1);
  // Upsampled 2x: nearest pixel centre.
  const LanguageTargets big = load_language_targets(dir, "img_01.png", 2 * W, 2 * H);
  EXPECT_EQ(big.segments[0][size_t(0) * 2 * W + 10], 1);
  EXPECT_EQ(big.segments[0][size_t(1) * 2 * W + 11], 1);
  // A level without masks is absent: 3 planes -> default, s, m; level l gets no target.
  write_language_targets(dir, "short.png", feats, D, std::vector<float>(planes.begin(), planes.begin() + 3 * W * H), 3, W, H);
  const LanguageTargets t3 = load_language_targets(dir, "short.png", W, H);
  EXPECT_EQ(t3.segments[0][5], 1);
  EXPECT_EQ(t3.segments[1][5], 2);
  EXPECT_EQ(std::count(t3.segments[2].begin(), t3.segments[2].end(), -1), W * H);
  planes[size_t(W) * H + 7] = 5;  // a row that does not exist (plane 1; plane 0 is not read)
  write_language_targets(dir, "bad.png", feats, D, planes, 4, W, H);
  test::expect_bad_input([&] { load_language_targets(dir, "bad.png", W, H); }, "outside [-1, 3)");
  test::expect_bad_input([&] { load_language_targets(dir, "missing.png", W, H); }, "not found");
}

}  // namespace
}  // namespace sp
