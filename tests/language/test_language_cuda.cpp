// The CUDA sparse splatting kernel against the CPU path (skips without a CUDA build or a
// device; the no-device error is checked where a CUDA build has no GPU).
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "engine/core/error.h"
#include "engine/language/sparse_splat.h"
#include "render/render_test_scene.h"

#if SPARSPLAT_HAS_CUDA
#include "cuda/cuda_rasterizer.h"
#include "cuda/cuda_sparse_splat.h"
#endif

namespace sp {
namespace {

TEST(LanguageCuda, SparseSplattingMatchesTheCpu) {
#if !SPARSPLAT_HAS_CUDA
  GTEST_SKIP() << "built without CUDA (SPARSPLAT_CUDA=OFF)";
#else
  std::string why;
  if (!cuda_device_available(&why)) GTEST_SKIP() << "no CUDA device: " << why;
  test::TestScene s = test::random_scene(31, 600, 97, 61, 1, 0);
  Rng rng(2);
  LanguageField f;
  f.levels = 3;
  f.codes = 64;
  f.dims = 8;
  f.top_k = 4;
  f.dictionary.assign(size_t(3) * 64 * 8, 0.0f);
  f.logits.resize(s.model.size() * 3 * 64);
  for (auto& z : f.logits) z = rng.normal(0, 2);
  const SparseCodes codes = sparse_codes(f);
  TileRasterizerT<float> rast;
  TileRenderT<float> plain;
  rast.forward(s.camera, params_of(s.model), s.options, plain);
  const Image cpu = splat_sparse_codes(plain.state, codes);
  const std::vector<float> gpu = cuda_splat_sparse_codes(plain.state, 3, 64, 4, codes.index.data(), codes.weight.data());
  ASSERT_EQ(gpu.size(), cpu.pixels.size());
  double num = 0, den = 0;
  for (size_t i = 0; i < gpu.size(); ++i) {
    num += double(gpu[i] - cpu.pixels[i]) * double(gpu[i] - cpu.pixels[i]);
    den += double(cpu.pixels[i]) * double(cpu.pixels[i]);
  }
  EXPECT_LE(std::sqrt(num / den), 1e-5);
#endif
}

TEST(LanguageCuda, NoDeviceIsAClearError) {
#if !SPARSPLAT_HAS_CUDA
  GTEST_SKIP() << "built without CUDA (SPARSPLAT_CUDA=OFF)";
#else
  std::string why;
  if (cuda_device_available(&why)) GTEST_SKIP() << "a CUDA device is present";
  TileRenderStateT<float> st;
  EXPECT_THROW(cuda_splat_sparse_codes(st, 3, 64, 4, nullptr, nullptr), Error);
#endif
}

}  // namespace
}  // namespace sp
