// The CUDA rasterizer against the CPU reference. GPU tests skip without a usable device; the
// last test checks the no-device behaviour and runs everywhere else.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "cuda/cuda_rasterizer.h"
#include "cuda_test_util.h"
#include "engine/core/error.h"
#include "engine/core/rng.h"
#include "render/render_test_scene.h"

namespace sp {
namespace {

using cudatest::relative_l2;

Image random_image(Rng& rng, int w, int h, int c) {
  Image im(w, h, c);
  for (float& v : im.pixels) v = rng.normal();
  return im;
}

void compare(const test::TestScene& scene, uint64_t seed) {
  const GaussianParams params = params_of(scene.model);
  auto cpu = make_cpu_rasterizer();
  auto gpu = make_cuda_rasterizer();
  const RenderOutput a = cpu->forward(scene.camera, params, scene.options);
  const RenderOutput b = gpu->forward(scene.camera, params, scene.options);
  EXPECT_LE(relative_l2(b.color.pixels, a.color.pixels), 1e-5);
  EXPECT_LE(relative_l2(b.depth.pixels, a.depth.pixels), 1e-5);
  EXPECT_LE(relative_l2(b.alpha.pixels, a.alpha.pixels), 1e-5);
  EXPECT_LE(relative_l2(b.extras.pixels, a.extras.pixels), 1e-5);
  EXPECT_EQ(b.radii, a.radii);

  const int W = scene.camera.width, H = scene.camera.height, E = scene.model.extra_channels;
  Rng rng(seed);
  const Image gc = random_image(rng, W, H, 3), gd = random_image(rng, W, H, 1), ga = random_image(rng, W, H, 1);
  const Image ge = E > 0 ? random_image(rng, W, H, E) : Image();
  const OutputGradients og{&gc, &gd, &ga, E > 0 ? &ge : nullptr};
  GaussianGradients ca, cb;
  cpu->backward(scene.camera, params, scene.options, a, og, ca);
  gpu->backward(scene.camera, params, scene.options, b, og, cb);
  EXPECT_LE(relative_l2(cb.means, ca.means), 1e-4) << "means";
  EXPECT_LE(relative_l2(cb.log_scales, ca.log_scales), 1e-4) << "log_scales";
  EXPECT_LE(relative_l2(cb.rotations, ca.rotations), 1e-4) << "rotations";
  EXPECT_LE(relative_l2(cb.opacities, ca.opacities), 1e-4) << "opacities";
  EXPECT_LE(relative_l2(cb.sh, ca.sh), 1e-4) << "sh";
  EXPECT_LE(relative_l2(cb.extras, ca.extras), 1e-4) << "extras";
  EXPECT_LE(relative_l2(cb.means2d, ca.means2d), 1e-4) << "means2d";
}

TEST(CudaRasterizer, MatchesCpuOnSmallRandomScenes) {
  SP_REQUIRE_CUDA_DEVICE();
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    SCOPED_TRACE(seed);
    // Odd sizes: partial tiles at the right and bottom edges.
    compare(test::random_scene(seed, 200, 77, 53, int(seed % 4), int(seed % 3)), seed + 100);
  }
}

TEST(CudaRasterizer, MatchesCpuOnABiggerScene) {
  SP_REQUIRE_CUDA_DEVICE();
  compare(test::random_scene(42, 10000, 256, 192), 4242);
}

TEST(CudaRasterizer, EmptySceneIsTheBackground) {
  SP_REQUIRE_CUDA_DEVICE();
  test::TestScene scene = test::random_scene(7, 0, 40, 30);
  const RenderOutput out = make_cuda_rasterizer()->forward(scene.camera, params_of(scene.model), scene.options);
  ASSERT_EQ(out.color.pixels.size(), size_t(40 * 30 * 3));
  for (size_t p = 0; p < out.color.pixel_count(); ++p)
    for (int c = 0; c < 3; ++c) EXPECT_EQ(out.color.pixels[p * 3 + c], scene.options.background[c]);
}

TEST(CudaRasterizer, WithoutADeviceSaysWhyAndThrows) {
  std::string why;
  if (cuda_device_available(&why)) GTEST_SKIP() << "a CUDA device is present";
  EXPECT_FALSE(why.empty());
  std::printf("cuda_device_available: false (%s)\n", why.c_str());
  test::TestScene scene = test::random_scene(3, 10, 32, 32);
  auto rast = make_cuda_rasterizer();
  EXPECT_STREQ(rast->name(), "cuda");
  try {
    rast->forward(scene.camera, params_of(scene.model), scene.options);
    FAIL() << "forward without a device did not throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Internal);
    EXPECT_NE(std::string(e.what()).find("no usable CUDA device"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace sp
