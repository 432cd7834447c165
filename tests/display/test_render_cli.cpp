// `sparsplat render --device vulkan` writes the same PNGs (names and content, to 8-bit
// rounding) as the CPU renderer; bad devices are one-line errors with exit code 2.
#include <gtest/gtest.h>

#include <filesystem>

#include "support/command_runner.h"
#include "display/display_test_support.h"
#include "engine/io/cameras_json.h"
#include "engine/io/image_io.h"
#include "engine/io/gaussian_ply.h"
#include "render/render_test_scene.h"
#include "support/test_support.h"

namespace fs = std::filesystem;

namespace sp {
namespace {

TEST(RenderCli, VulkanBackendWritesTheCpuBackendsImages) {
  SP_REQUIRE_VULKAN(dev, false);
  dev.reset();
  const std::string dir = test::temp_dir("render-vulkan");
  test::TestScene s = test::random_scene(31, 2500, 160, 120, 3, 0);
  write_gaussian_ply(dir + "/model.ply", s.model);
  std::vector<Camera> cams;
  for (int i = 0; i < 3; ++i) {
    Camera c = s.camera;
    c.cx = 80.0f;  // cameras.json has no principal point: the centre
    c.cy = 60.0f;
    c.t.x += 0.1f * float(i);
    c.name = "view_" + std::to_string(i);
    cams.push_back(c);
  }
  write_cameras_json(dir + "/cameras.json", cams);
  const std::string base = std::string(SPARSPLAT_CLI) + " render " + dir + "/model.ply --cameras " + dir +
                           "/cameras.json --background 0.1,0.2,0.3 ";
  const test::CommandResult gpu = test::run_command(base + "--device vulkan -o " + dir + "/vk");
  ASSERT_EQ(gpu.code, 0) << gpu.output;
  const test::CommandResult cpu = test::run_command(base + "--device cpu -o " + dir + "/cpu");
  ASSERT_EQ(cpu.code, 0) << cpu.output;
  // --backend, the older name, still works and picks the same renderer.
  const test::CommandResult alias = test::run_command(base + "--backend cpu -o " + dir + "/alias");
  ASSERT_EQ(alias.code, 0) << alias.output;
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir + "/cpu")) {
    const fs::path other = fs::path(dir) / "vk" / entry.path().filename();
    ASSERT_TRUE(fs::exists(other)) << other;
    const double p = test::psnr(load_image(entry.path().string()), load_image(other.string()));
    std::printf("[ render --device vulkan ] %s: %.1f dB against --device cpu\n", entry.path().filename().c_str(), p);
    EXPECT_GE(p, 40.0);
    EXPECT_EQ(test::psnr(load_image(entry.path().string()),
                         load_image((fs::path(dir) / "alias" / entry.path().filename()).string())),
              200.0);  // identical
    ++files;
  }
  EXPECT_EQ(files, 3);
}

TEST(RenderCli, UnknownDeviceIsBadInput) {
  const std::string dir = test::temp_dir("render-backend");
  for (const char* flag : {"--backend", "--device"}) {
    const test::CommandResult r = test::run_command(std::string(SPARSPLAT_CLI) + " render x.ply --cameras c.json " +
                                                    flag + " metal -o " + dir);
    EXPECT_EQ(r.code, 2) << r.output;
    EXPECT_NE(r.output.find(flag), std::string::npos) << r.output;
  }
}

}  // namespace
}  // namespace sp
