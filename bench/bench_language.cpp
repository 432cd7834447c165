// Times language-feature rendering and querying on the CPU at 1440x1080 with 1M Gaussians
// (the language issue's benchmark), sparse coefficient splatting against the dense path:
//   feature render  dense:  forward with 3L extra channels (the L-vector of every level)
//                   sparse: forward without extras (tile lists, α) + splat_sparse_codes
//   query           dense:  the 3L-channel render + no-decode relevance per pixel
//                   sparse: forward + splat_sparse_projections (fused, no 3L image) + scores
// L = 64, K = 4, D = 512, 3 levels, 1 query + 4 canonical phrases. Random Gaussians through
// the frustum (σ ~ 2 px log-normal, opacity 0.3-0.9), random logits and dictionaries.
//
//   bench_language [--gaussians N] [--size W H] [--repeats R] [--threads T]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "engine/core/parallel.h"
#include "engine/core/rng.h"
#include "engine/language/relevance.h"
#include "engine/language/sparse_splat.h"
#include "engine/render/tile_rasterizer_cpu.h"

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

template <class F>
double median_seconds(int repeats, F&& f) {
  std::vector<double> t;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    t.push_back(seconds_since(t0));
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int n = 1000000, W = 1440, H = 1080, repeats = 3, threads = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--gaussians" && i + 1 < argc) n = std::atoi(argv[++i]);
    else if (a == "--size" && i + 2 < argc) W = std::atoi(argv[++i]), H = std::atoi(argv[++i]);
    else if (a == "--repeats" && i + 1 < argc) repeats = std::max(1, std::atoi(argv[++i]));
    else if (a == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
    else {
      std::fprintf(stderr, "usage: bench_language [--gaussians N] [--size W H] [--repeats R] [--threads T]\n");
      return 2;
    }
  }
  sp::set_thread_count(threads);
  const int L = 64, K = 4, D = 512, levels = 3;

  sp::Camera cam;
  cam.width = W;
  cam.height = H;
  cam.fx = cam.fy = 0.5f * float(H) / std::tan(0.5f * 0.96f);
  cam.cx = 0.5f * float(W);
  cam.cy = 0.5f * float(H);
  sp::Rng rng(7);
  sp::GaussianModel m;
  m.sh_degree = 0;
  m.resize(size_t(n));
  for (int i = 0; i < n; ++i) {
    const float z = rng.uniform(2.0f, 12.0f);
    const float u = rng.uniform(-0.1f, 1.1f) * float(W), v = rng.uniform(-0.1f, 1.1f) * float(H);
    m.means[size_t(i) * 3] = (u - cam.cx) / cam.fx * z;
    m.means[size_t(i) * 3 + 1] = (v - cam.cy) / cam.fy * z;
    m.means[size_t(i) * 3 + 2] = z;
    const float sigma_px = 2.0f * std::exp(rng.normal(0.0f, 0.5f));
    for (int d = 0; d < 3; ++d) m.log_scales[size_t(i) * 3 + d] = std::log(sigma_px * z / cam.fx * rng.uniform(0.6f, 1.4f));
    for (int d = 0; d < 4; ++d) m.rotations[size_t(i) * 4 + d] = rng.normal();
    const float o = rng.uniform(0.3f, 0.9f);
    m.opacities[size_t(i)] = std::log(o / (1 - o));
    for (int c = 0; c < 3; ++c) m.sh[size_t(i) * 3 + c] = rng.normal(0, 1);
  }
  sp::LanguageField f;
  f.levels = levels;
  f.codes = L;
  f.dims = D;
  f.top_k = K;
  f.dictionary.resize(size_t(levels) * L * D);
  for (auto& x : f.dictionary) x = rng.normal();
  f.logits.resize(size_t(n) * levels * L);
  for (auto& x : f.logits) x = rng.normal(0, 2);
  sp::QueryEmbeddings q;
  q.dims = D;
  q.phrases = {"query"};
  for (int i = 0; i < D; ++i) q.queries.push_back(rng.normal() / std::sqrt(float(D)));
  for (int i = 0; i < 4 * D; ++i) q.canonical.push_back(rng.normal() / std::sqrt(float(D)));
  const sp::SparseCodes codes = sparse_codes(f);
  const std::vector<float> dense = dense_codes(f);
  f.logits.clear();  // 768 MB no longer needed
  f.logits.shrink_to_fit();

  sp::TileRasterizerT<float> rast;
  sp::RenderOptions ro;
  ro.sh_degree = 0;
  sp::GaussianParams plain = sp::params_of(m), with_codes = plain;
  with_codes.extra_channels = levels * L;
  with_codes.extras = dense.data();
  std::printf("bench_language: %d Gaussians, %dx%d, L=%d K=%d D=%d, %d levels, %d threads, median of %d\n", n, W, H, L,
              K, D, levels, sp::thread_count(), repeats);

  sp::TileRenderT<float> out;
  rast.forward(cam, plain, ro, out);  // warm-up
  const double t_plain = median_seconds(repeats, [&] { rast.forward(cam, plain, ro, out); });
  double t_splat = 0, t_proj = 0;
  {
    sp::Image img;
    t_splat = median_seconds(repeats, [&] { img = sp::splat_sparse_codes(out.state, codes); });
    const sp::CodeProjection proj = sp::relevance_projection(f, q);
    std::vector<float> p;
    t_proj = median_seconds(repeats, [&] {
      p = sp::splat_sparse_projections(out.state, codes, proj);
      const sp::RelevanceMaps r = sp::relevance_from_projections(p, W, H, f, q);
    });
  }
  sp::TileRenderT<float> dense_out;
  double t_dense = 0, t_dense_query = 0;
  t_dense = median_seconds(repeats, [&] { rast.forward(cam, with_codes, ro, dense_out); });
  {
    sp::Image img(W, H, levels * L);
    img.pixels = std::move(dense_out.extras);
    t_dense_query = median_seconds(repeats, [&] { const sp::RelevanceMaps r = sp::relevance_from_codes(img, f, q); });
  }
  const double sparse_render = t_plain + t_splat, dense_render = t_dense;
  const double sparse_query = t_plain + t_proj, dense_query = t_dense + t_dense_query;
  std::printf("forward without extras (tile lists + RGB): %.3f s\n", t_plain);
  std::printf("feature render  dense %.3f s | sparse %.3f s (splat %.3f s) | dense/sparse %.2fx\n", dense_render,
              sparse_render, t_splat, dense_render / sparse_render);
  std::printf("query (1 phrase) dense %.3f s (relevance %.3f s) | sparse fused %.3f s (splat+relevance %.3f s) | "
              "dense/sparse %.2fx\n",
              dense_query, t_dense_query, sparse_query, t_proj, dense_query / sparse_query);
  std::printf("FPS: feature render dense %.2f sparse %.2f; query dense %.2f sparse %.2f\n", 1 / dense_render,
              1 / sparse_render, 1 / dense_query, 1 / sparse_query);
  return 0;
}
