// The Vulkan splat pipeline against the CPU tile rasterizer (the reference): colour and alpha
// of the same model and camera, PSNR >= 40 dB, on random scenes and on a model trained by
// another tool (OpenSplat's statue, shared data); zero validation messages over full renders.
#include <gtest/gtest.h>

#include <cstdio>

#include "display/display_test_support.h"
#include "engine/display/splat_renderer.h"
#include "engine/io/cameras_json.h"
#include "engine/io/gaussian_ply.h"
#include "render/render_test_scene.h"
#include "support/test_support.h"

namespace sp {
namespace {

struct Comparison {
  double color_psnr = 0, alpha_psnr = 0;
  uint32_t visible = 0;
};

Comparison compare_with_cpu(SplatRenderer& gpu, const Camera& camera, const GaussianModel& model,
                            const RenderOptions& options) {
  auto cpu = make_cpu_rasterizer();
  const RenderOutput ref = cpu->forward(camera, params_of(model), options);
  const SplatRender got = gpu.render(camera, options);
  Comparison c;
  c.color_psnr = test::psnr(ref.color, got.color);
  c.alpha_psnr = test::psnr(ref.alpha, got.alpha);
  c.visible = got.visible;
  return c;
}

TEST(SplatRenderer, RandomScenesMatchCpuRasterizer) {
  SP_REQUIRE_VULKAN(dev, true);
  SplatRenderer gpu(*dev);
  struct Case {
    test::TestScene scene;
    const char* what;
  };
  std::vector<Case> cases;
  cases.push_back({test::random_scene(1, 3000, 250, 170, 3, 0), "sparse SH3 250x170"});
  cases.push_back({test::dense_scene(2, 4000, 320, 240), "dense SH3 320x240"});
  cases.push_back({test::random_scene(3, 2000, 97, 61, 1, 0), "SH1 97x61"});
  test::TestScene sh0 = test::dense_scene(4, 1500, 200, 150);
  sh0.options.sh_degree = 0;
  sh0.options.background = glm::vec3(1.0f);
  cases.push_back({std::move(sh0), "dense, SH degree 0 of 3, white background"});
  for (const Case& c : cases) {
    gpu.set_model(c.scene.model);
    const Comparison r = compare_with_cpu(gpu, c.scene.camera, c.scene.model, c.scene.options);
    std::printf("[ vulkan vs cpu ] %-42s colour %.1f dB, alpha %.1f dB, %u splats drawn\n", c.what, r.color_psnr,
                r.alpha_psnr, r.visible);
    EXPECT_GE(r.color_psnr, 40.0) << c.what;
    EXPECT_GE(r.alpha_psnr, 40.0) << c.what;
    EXPECT_GT(r.visible, 0u) << c.what;
  }
  EXPECT_EQ(dev->validation_messages(), 0u);
}

TEST(SplatRenderer, TrainedModelFromAnotherToolMatchesCpuRasterizer) {
  SP_REQUIRE_DATASET(dir, "opensplat_statue");
  SP_REQUIRE_VULKAN(dev, false);
  const GaussianModel model = read_gaussian_ply(dir + "/point_cloud.ply");
  const std::vector<Camera> cameras = read_cameras_json(dir + "/cameras.json");
  ASSERT_GE(cameras.size(), 3u);
  SplatRenderer gpu(*dev);
  gpu.set_model(model);
  RenderOptions options;
  options.sh_degree = model.sh_degree;
  for (size_t i : {size_t(0), cameras.size() / 2, cameras.size() - 1}) {
    const Comparison r = compare_with_cpu(gpu, cameras[i], model, options);
    std::printf("[ vulkan vs cpu ] statue camera %zu (%dx%d): colour %.1f dB, alpha %.1f dB, %u of %zu splats\n", i,
                cameras[i].width, cameras[i].height, r.color_psnr, r.alpha_psnr, r.visible, model.size());
    EXPECT_GE(r.color_psnr, 40.0);
    EXPECT_GE(r.alpha_psnr, 40.0);
  }
}

TEST(SplatRenderer, ValidationLayerReportsNothingOverFullRenders) {
  SP_REQUIRE_VULKAN(dev, true);
  if (!dev->validation_enabled()) GTEST_SKIP() << "VK_LAYER_KHRONOS_validation is not installed";
  {
    SplatRenderer gpu(*dev);
    test::TestScene s = test::dense_scene(7, 500, 64, 48);
    gpu.set_model(s.model);
    gpu.render(s.camera, s.options);
    gpu.render(s.camera, s.options, 1.0f, /*with_depth=*/true);  // the second draw
    gpu.probe(s.camera, s.options);                                // the projection alone, probed
    gpu.set_params(params_of(s.model));                            // same shape: buffers reused
    gpu.render(s.camera, s.options, 1.0f, true);
    s.camera = s.camera.resized(80, 60);  // a new target size
    gpu.render(s.camera, s.options);
    gpu.render(s.camera, s.options, 1.0f, true);
    gpu.set_model(GaussianModel{});        // empty model
    gpu.render(s.camera, s.options);
  }
  for (const std::string& m : dev->validation_log()) ADD_FAILURE() << m;
  EXPECT_EQ(dev->validation_messages(), 0u);
}

TEST(SplatRenderer, EmptyAndCulledScenesShowTheBackground) {
  SP_REQUIRE_VULKAN(dev, false);
  SplatRenderer gpu(*dev);
  test::TestScene s = test::random_scene(9, 200, 40, 30, 2, 0);
  gpu.set_model(GaussianModel{});
  SplatRender r = gpu.render(s.camera, s.options);
  EXPECT_EQ(r.visible, 0u);
  for (int y = 0; y < 30; ++y)
    for (int x = 0; x < 40; ++x) ASSERT_FLOAT_EQ(r.color.at(x, y, 2), s.options.background.z);
  // Everything behind the camera: culled.
  for (size_t i = 0; i < s.model.size(); ++i) {
    const glm::vec3 p(s.model.means[i * 3], s.model.means[i * 3 + 1], s.model.means[i * 3 + 2]);
    const glm::vec3 behind = glm::transpose(s.camera.R) * (-(s.camera.R * p + s.camera.t) - s.camera.t);
    for (int k = 0; k < 3; ++k) s.model.means[i * 3 + k] = behind[k];
  }
  gpu.set_model(s.model);
  r = gpu.render(s.camera, s.options);
  EXPECT_EQ(r.visible, 0u);
  EXPECT_FLOAT_EQ(r.alpha.at(20, 15, 0), 0.0f);
}

TEST(SplatRenderer, SplatScaleGrowsCoverage) {
  SP_REQUIRE_VULKAN(dev, false);
  SplatRenderer gpu(*dev);
  const test::TestScene s = test::random_scene(10, 300, 120, 90, 0, 0);
  gpu.set_model(s.model);
  auto coverage = [&](float scale) {
    const SplatRender r = gpu.render(s.camera, s.options, scale);
    double a = 0;
    for (float v : r.alpha.pixels) a += v;
    return a;
  };
  EXPECT_GT(coverage(2.0f), 1.5 * coverage(1.0f));
}

}  // namespace
}  // namespace sp
