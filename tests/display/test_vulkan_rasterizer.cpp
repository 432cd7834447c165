// make_vulkan_rasterizer(): the forward half of the Rasterizer contract on the Vulkan splat
// pipeline, against make_cpu_rasterizer() (the reference). Colour and alpha: PSNR >= 60 dB;
// depth (Σ z α T, values up to ~8): PSNR >= 60 dB after dividing by the largest CPU depth.
// Also: no stale data when the same host arrays hold new values, changing sizes, backward
// throws, no device gives null with a reason, zero validation messages.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "display/display_test_support.h"
#include "engine/core/error.h"
#include "engine/display/vulkan_rasterizer.h"
#include "render/render_test_scene.h"

namespace sp {
namespace {

struct Psnr {
  double color = 0, alpha = 0, depth = 0;
};

Psnr compare(const RenderOutput& ref, const RenderOutput& got) {
  Psnr p;
  p.color = test::psnr(ref.color, got.color);
  p.alpha = test::psnr(ref.alpha, got.alpha);
  float zmax = 1e-6f;
  for (float z : ref.depth.pixels) zmax = std::max(zmax, z);
  Image a = ref.depth, b = got.depth;
  for (float& z : a.pixels) z /= zmax;
  for (float& z : b.pixels) z /= zmax;
  p.depth = test::psnr(a, b);
  return p;
}

void expect_close(const Psnr& p, const char* what) {
  std::printf("[ vulkan vs cpu ] %-40s colour %.1f dB, alpha %.1f dB, depth %.1f dB\n", what, p.color, p.alpha, p.depth);
  EXPECT_GE(p.color, 60.0) << what;
  EXPECT_GE(p.alpha, 60.0) << what;
  EXPECT_GE(p.depth, 60.0) << what;
}

TEST(VulkanRasterizer, ForwardMatchesCpuRasterizer) {
  SP_REQUIRE_VULKAN(dev, true);
  auto vk = make_vulkan_rasterizer(*dev);
  auto cpu = make_cpu_rasterizer();
  EXPECT_STREQ(vk->name(), "vulkan");
  struct Case {
    test::TestScene scene;
    const char* what;
  };
  std::vector<Case> cases;
  cases.push_back({test::random_scene(11, 3000, 250, 170, 3, 2), "random SH3 250x170, 2 extras"});
  cases.push_back({test::dense_scene(12, 3000, 203, 157), "dense SH3 203x157"});
  test::TestScene sh0 = test::dense_scene(13, 1500, 160, 120);
  sh0.options.sh_degree = 0;
  sh0.options.background = glm::vec3(1.0f);
  sh0.options.near_plane = 1.5f;
  cases.push_back({std::move(sh0), "SH 0 of 3, white, near plane 1.5"});
  for (const Case& c : cases) {
    const GaussianParams p = params_of(c.scene.model);
    const RenderOutput ref = cpu->forward(c.scene.camera, p, c.scene.options);
    const RenderOutput got = vk->forward(c.scene.camera, p, c.scene.options);
    ASSERT_EQ(got.color.channels, 3);
    ASSERT_EQ(got.alpha.channels, 1);
    ASSERT_EQ(got.depth.channels, 1);
    EXPECT_TRUE(got.extras.pixels.empty()) << "the Vulkan renderer does not render extras";
    EXPECT_TRUE(got.radii.empty());
    expect_close(compare(ref, got), c.what);
  }
  EXPECT_EQ(dev->validation_messages(), 0u);
}

TEST(VulkanRasterizer, NewValuesInTheSameArraysAreRendered) {
  SP_REQUIRE_VULKAN(dev, true);
  auto vk = make_vulkan_rasterizer(*dev);
  auto cpu = make_cpu_rasterizer();
  test::TestScene s = test::random_scene(21, 2000, 200, 150, 2, 0);
  GaussianModel& m = s.model;
  const GaussianParams p = params_of(m);  // the same pointers throughout
  const RenderOutput first = vk->forward(s.camera, p, s.options);
  expect_close(compare(cpu->forward(s.camera, p, s.options), first), "before the in-place change");
  // A training step's worth of change, in place.
  Rng rng(22);
  for (float& v : m.means) v += rng.normal(0.0f, 0.05f);
  for (float& v : m.opacities) v += rng.normal(0.0f, 0.5f);
  for (float& v : m.sh) v += rng.normal(0.0f, 0.1f);
  for (float& v : m.log_scales) v += rng.normal(0.0f, 0.1f);
  ASSERT_EQ(params_of(m).means, p.means);
  const RenderOutput second = vk->forward(s.camera, p, s.options);
  EXPECT_LT(test::psnr(first.color, second.color), 40.0) << "the change must show";
  expect_close(compare(cpu->forward(s.camera, p, s.options), second), "after the in-place change");
  // Other sizes through the same rasterizer: fewer Gaussians, other SH storage, none.
  test::TestScene t = test::random_scene(23, 700, 120, 90, 1, 0);
  expect_close(compare(cpu->forward(t.camera, params_of(t.model), t.options),
                       vk->forward(t.camera, params_of(t.model), t.options)),
               "another model and size");
  const GaussianModel empty;
  const RenderOutput none = vk->forward(t.camera, params_of(empty), t.options);
  for (size_t i = 0; i < none.alpha.pixels.size(); ++i) ASSERT_EQ(none.alpha.pixels[i], 0.0f);
  EXPECT_FLOAT_EQ(none.color.at(3, 4, 1), t.options.background.y);
  EXPECT_EQ(dev->validation_messages(), 0u);
}

TEST(VulkanRasterizer, BackwardThrows) {
  SP_REQUIRE_VULKAN(dev, false);
  auto vk = make_vulkan_rasterizer(*dev);
  const test::TestScene s = test::random_scene(31, 50, 64, 48, 1, 0);
  const GaussianParams p = params_of(s.model);
  const RenderOutput out = vk->forward(s.camera, p, s.options);
  const Image dcolor(64, 48, 3);
  OutputGradients g;
  g.color = &dcolor;
  GaussianGradients grads;
  try {
    vk->backward(s.camera, p, s.options, out, g, grads);
    ADD_FAILURE() << "backward returned";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Internal);
    EXPECT_NE(std::string(e.what()).find("forward-only"), std::string::npos) << e.what();
  }
}

TEST(VulkanRasterizer, OwnDeviceOrNullWithReason) {
  std::string why;
  auto vk = make_vulkan_rasterizer(&why);
  if (!vk) {
    EXPECT_FALSE(why.empty());
    GTEST_SKIP() << "no Vulkan device: " << why;
  }
  const test::TestScene s = test::random_scene(41, 300, 80, 60, 1, 0);
  expect_close(compare(make_cpu_rasterizer()->forward(s.camera, params_of(s.model), s.options),
                       vk->forward(s.camera, params_of(s.model), s.options)),
               "make_vulkan_rasterizer(&why)");
  // Without a driver: null and the reason (the loader reads VK_DRIVER_FILES per instance).
  const char* old = std::getenv("VK_DRIVER_FILES");
  const std::string saved = old ? old : "";
  setenv("VK_DRIVER_FILES", "/nonexistent/icd.json", 1);
  why.clear();
  auto none = make_vulkan_rasterizer(&why);
  if (old)
    setenv("VK_DRIVER_FILES", saved.c_str(), 1);
  else
    unsetenv("VK_DRIVER_FILES");
  EXPECT_EQ(none, nullptr);
  EXPECT_FALSE(why.empty());
  std::printf("[ vulkan ] without a driver: %s\n", why.c_str());
}

}  // namespace
}  // namespace sp
