// sparsplat-view under Xvfb on a model trained by another tool (OpenSplat's statue): renders
// frames at a dataset camera, resizes and minimizes the window, takes a screenshot of the
// swapchain image and compares it with the headless Vulkan and the CPU render of that view;
// the same with --device cpu (the tile rasterizer draws, Vulkan presents). Skips without the
// viewer target, xvfb-run, a Vulkan driver or the shared data.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>

#include "support/command_runner.h"
#include "display/display_test_support.h"
#include "engine/display/splat_renderer.h"
#include "engine/io/cameras_json.h"
#include "engine/io/image_io.h"
#include "engine/io/gaussian_ply.h"
#include "engine/io/model_file.h"
#include "engine/render/tile_rasterizer_cpu.h"
#include "engine/train/appearance.h"
#include "support/test_support.h"

namespace fs = std::filesystem;

namespace sp {
namespace {

#ifdef SPARSPLAT_VIEW
// The image as an 8-bit PNG stores it (what the screenshot holds).
Image quantized(const Image& in) {
  Image out = in;
  for (float& v : out.pixels) v = std::round(std::clamp(v, 0.0f, 1.0f) * 255.0f) / 255.0f;
  return out;
}

TEST(Viewer, ScreenshotUnderXvfbMatchesHeadlessRender) {
  if (std::system("command -v xvfb-run > /dev/null 2>&1") != 0) GTEST_SKIP() << "xvfb-run is not installed";
  SP_REQUIRE_DATASET(dir, "opensplat_statue");
  SP_REQUIRE_VULKAN(dev, false);
  const std::string out = test::temp_dir("viewer");
  const std::string runtime = out + "/xdg";
  fs::create_directories(runtime);
  ::chmod(runtime.c_str(), 0700);  // Xvfb's clients want a private runtime folder
  const int camera = 3;
  const std::string shot = out + "/shot.png";
  const std::string cmd = "XDG_RUNTIME_DIR=" + runtime + " timeout 300 xvfb-run -a -s \"-screen 0 1280x720x24\" " +
                          std::string(SPARSPLAT_VIEW) + " " + dir + "/point_cloud.ply --cameras " + dir +
                          "/cameras.json --camera " + std::to_string(camera) +
                          " --frames 4 --no-ui --exit --validation --exercise-window --device vulkan --screenshot " + shot;
  const test::CommandResult r = test::run_command(cmd);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("validation messages: 0"), std::string::npos) << r.output;
  ASSERT_TRUE(fs::exists(shot)) << r.output;
  const Image screenshot = load_image(shot, 3);

  const GaussianModel model = read_gaussian_ply(dir + "/point_cloud.ply");
  const Camera view = read_cameras_json(dir + "/cameras.json").at(camera);
  ASSERT_EQ(screenshot.width, view.width);
  ASSERT_EQ(screenshot.height, view.height);
  SplatRenderer headless(*dev);
  headless.set_model(model);
  RenderOptions options;
  options.sh_degree = model.sh_degree;
  const double vs_headless = test::psnr(screenshot, quantized(headless.render(view, options).color));
  const double vs_cpu = test::psnr(screenshot, quantized(make_cpu_rasterizer()->forward(view, params_of(model), options).color));
  std::printf("[ viewer ] screenshot of camera %d (%dx%d): %.1f dB vs headless Vulkan, %.1f dB vs CPU rasterizer\n",
              camera, view.width, view.height, vs_headless, vs_cpu);
  EXPECT_GE(vs_headless, 40.0);
  EXPECT_GE(vs_cpu, 40.0);
}

// The viewer reads the export formats through read_gaussian_model: the statue as .spz and
// .splat, a screenshot of each against the CPU render of the same file's model.
TEST(Viewer, LoadsExportedSpzAndSplat) {
  if (std::system("command -v xvfb-run > /dev/null 2>&1") != 0) GTEST_SKIP() << "xvfb-run is not installed";
  SP_REQUIRE_DATASET(dir, "opensplat_statue");
  SP_REQUIRE_VULKAN(dev, false);
  const std::string out = test::temp_dir("viewer-export");
  const std::string runtime = out + "/xdg";
  fs::create_directories(runtime);
  ::chmod(runtime.c_str(), 0700);
  const GaussianModel original = read_gaussian_ply(dir + "/point_cloud.ply");
  const Camera view = read_cameras_json(dir + "/cameras.json").at(3);
  for (const char* name : {"statue.spz", "statue.splat"}) {
    SCOPED_TRACE(name);
    const std::string file = out + "/" + name, shot = out + "/" + name + ".png";
    write_gaussian_model(file, original);
    const std::string cmd = "XDG_RUNTIME_DIR=" + runtime + " timeout 300 xvfb-run -a -s \"-screen 0 1280x720x24\" " +
                            std::string(SPARSPLAT_VIEW) + " " + file + " --cameras " + dir +
                            "/cameras.json --camera 3 --frames 2 --no-ui --exit --device vulkan --screenshot " + shot;
    const test::CommandResult r = test::run_command(cmd);
    ASSERT_EQ(r.code, 0) << r.output;
    ASSERT_TRUE(fs::exists(shot)) << r.output;
    const GaussianModel model = read_gaussian_model(file);
    RenderOptions options;
    options.sh_degree = model.sh_degree;
    const double p = test::psnr(load_image(shot, 3), quantized(make_cpu_rasterizer()->forward(view, params_of(model), options).color));
    std::printf("[ viewer ] %s: screenshot %.1f dB vs the CPU render of the file's model\n", name, p);
    EXPECT_GE(p, 40.0);
  }
}

// --device cpu: the screenshot is the CPU rasterizer's render of the camera (the final frame
// is full resolution), and agrees with the Vulkan path's screenshot of the same view as
// closely as the Vulkan renderer agrees with the CPU one. With --spin and an unreachable
// target frame rate every frame is a new view, drawn coarse.
TEST(Viewer, CpuDrawingScreenshotMatchesCpuRasterizerAndVulkanPath) {
  if (std::system("command -v xvfb-run > /dev/null 2>&1") != 0) GTEST_SKIP() << "xvfb-run is not installed";
  SP_REQUIRE_DATASET(dir, "opensplat_statue");
  SP_REQUIRE_VULKAN(dev, false);
  const std::string out = test::temp_dir("viewer-cpu");
  const std::string runtime = out + "/xdg";
  fs::create_directories(runtime);
  ::chmod(runtime.c_str(), 0700);
  const int camera = 3;
  const std::string base = "XDG_RUNTIME_DIR=" + runtime + " timeout 300 xvfb-run -a -s \"-screen 0 1280x720x24\" " +
                           std::string(SPARSPLAT_VIEW) + " " + dir + "/point_cloud.ply --cameras " + dir +
                           "/cameras.json --camera " + std::to_string(camera) + " --no-ui --exit ";
  const test::CommandResult cpu =
      test::run_command(base + "--frames 4 --validation --exercise-window --device cpu --screenshot " + out + "/cpu.png");
  ASSERT_EQ(cpu.code, 0) << cpu.output;
  EXPECT_NE(cpu.output.find("validation messages: 0"), std::string::npos) << cpu.output;
  EXPECT_NE(cpu.output.find("drawing with the CPU rasterizer"), std::string::npos) << cpu.output;
  const test::CommandResult vk = test::run_command(base + "--frames 2 --device vulkan --screenshot " + out + "/vulkan.png");
  ASSERT_EQ(vk.code, 0) << vk.output;
  // auto picks the CPU rasterizer exactly when the Vulkan device is a CPU (lavapipe), and says so.
  const test::CommandResult automatic = test::run_command(base + "--frames 1");
  ASSERT_EQ(automatic.code, 0) << automatic.output;
  EXPECT_NE(automatic.output.find(dev->is_cpu() ? "drawing with the CPU rasterizer" : "drawing with Vulkan"),
            std::string::npos)
      << automatic.output;
  EXPECT_NE(automatic.output.find("--device auto"), std::string::npos) << automatic.output;

  const Image shot = load_image(out + "/cpu.png", 3), vulkan_shot = load_image(out + "/vulkan.png", 3);
  const GaussianModel model = read_gaussian_ply(dir + "/point_cloud.ply");
  const Camera view = read_cameras_json(dir + "/cameras.json").at(camera);
  ASSERT_EQ(shot.width, view.width);
  ASSERT_EQ(shot.height, view.height);
  RenderOptions options;
  options.sh_degree = model.sh_degree;
  const Image cpu_render = quantized(make_cpu_rasterizer()->forward(view, params_of(model), options).color);
  double abs_diff = 0;
  for (size_t i = 0; i < shot.pixels.size(); ++i) abs_diff += std::abs(shot.pixels[i] - cpu_render.pixels[i]);
  abs_diff /= double(shot.pixels.size());
  const double vs_cpu = test::psnr(shot, cpu_render), vs_vulkan = test::psnr(shot, vulkan_shot);
  std::printf("[ viewer ] --device cpu, camera %d (%dx%d): %.1f dB (mean |diff| %.5f) vs CPU rasterizer, "
              "%.1f dB vs the --device vulkan screenshot\n",
              camera, view.width, view.height, vs_cpu, abs_diff, vs_vulkan);
  EXPECT_GE(vs_cpu, 60.0);
  EXPECT_LE(abs_diff, 0.5 / 255.0);
  EXPECT_GE(vs_vulkan, 40.0);

  // Progressive refinement through the viewer: coarse frames while spinning, full at the end.
  // 1 ms per frame at 1280x720 is out of any CPU's reach: the scale must drop.
  const std::string free_view = "XDG_RUNTIME_DIR=" + runtime + " timeout 300 xvfb-run -a -s \"-screen 0 1280x720x24\" " +
                                std::string(SPARSPLAT_VIEW) + " " + dir + "/point_cloud.ply --no-ui --exit ";
  const test::CommandResult spin = test::run_command(
      free_view + "--frames 6 --validation --device cpu --spin 3 --target-fps 1000 --screenshot " + out + "/spin.png");
  ASSERT_EQ(spin.code, 0) << spin.output;
  EXPECT_NE(spin.output.find("validation messages: 0"), std::string::npos) << spin.output;
  const size_t at = spin.output.find("mean scale ");
  ASSERT_NE(at, std::string::npos) << spin.output;
  const double mean_scale = std::atof(spin.output.c_str() + at + 11);
  EXPECT_LT(mean_scale, 0.9) << spin.output;
  EXPECT_EQ(load_image(out + "/spin.png", 3).width, 1280);
}

// The appearance picker (docs/in_the_wild.md): a model with appearance.json beside it,
// started in one photo's look, draws the model recoloured by that photo's code over the
// recoloured background, which is the code's transform of the plain render.
TEST(Viewer, AppearanceLookIsTheCodesTransformOfTheRender) {
  if (std::system("command -v xvfb-run > /dev/null 2>&1") != 0) GTEST_SKIP() << "xvfb-run is not installed";
  SP_REQUIRE_DATASET(dir, "opensplat_statue");
  SP_REQUIRE_VULKAN(dev, false);
  const std::string out = test::temp_dir("viewer-look");
  const std::string runtime = out + "/xdg";
  fs::create_directories(runtime);
  ::chmod(runtime.c_str(), 0700);
  fs::copy_file(dir + "/point_cloud.ply", out + "/point_cloud.ply");
  const std::vector<Camera> cams = read_cameras_json(dir + "/cameras.json");
  const int camera = 3;
  AppearanceCodes codes = identity_appearance_codes({cams[1].name, cams[camera].name});
  // A warm, darker look: red up, blue down, an offset.
  codes.set_code(1, {1.1f, 0.05f, 0, 0, 0.9f, 0, 0, 0.05f, 0.7f, 0.03f, 0.0f, -0.02f});
  write_appearance_codes(out + "/appearance.json", codes);
  const std::string base = "XDG_RUNTIME_DIR=" + runtime + " timeout 300 xvfb-run -a -s \"-screen 0 1280x720x24\" " +
                           std::string(SPARSPLAT_VIEW) + " " + out + "/point_cloud.ply --cameras " + dir +
                           "/cameras.json --camera " + std::to_string(camera) + " --no-ui --exit --frames 2 --device cpu ";
  const test::CommandResult r = test::run_command(base + "--appearance " + cams[camera].name + " --screenshot " + out + "/look.png");
  ASSERT_EQ(r.code, 0) << r.output;
  const GaussianModel model = read_gaussian_ply(out + "/point_cloud.ply");
  const Camera& view = cams[size_t(camera)];
  RenderOptions options;
  options.sh_degree = model.sh_degree;
  const std::vector<float> code = codes.code(1);
  const Image plain = make_cpu_rasterizer()->forward(view, params_of(model), options).color;
  const Image want = quantized(apply_affine_colour(code, plain, true));
  const Image shot = load_image(out + "/look.png", 3);
  ASSERT_EQ(shot.width, view.width);
  const double vs_code = test::psnr(shot, want), vs_plain = test::psnr(shot, quantized(plain));
  std::printf("[ viewer ] look of %s: %.1f dB vs the code applied to the CPU render, %.1f dB vs the plain render\n",
              view.name.c_str(), vs_code, vs_plain);
  EXPECT_GE(vs_code, 45.0);
  EXPECT_LT(vs_plain, vs_code - 10.0) << "the look must be visible";
  // A name without a code: one line, exit 2.
  const test::CommandResult bad = test::run_command(base + "--appearance nobody.jpg");
  EXPECT_EQ(bad.code, 2) << bad.output;
  EXPECT_NE(bad.output.find("is not one of the 2 train images with a code"), std::string::npos) << bad.output;
}

TEST(Viewer, BadInputIsOneLineAndExitCode2) {
  const std::string out = test::temp_dir("viewer-bad");
  test::CommandResult r = test::run_command(std::string(SPARSPLAT_VIEW) + " " + out + "/missing.ply");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("missing.ply"), std::string::npos) << r.output;
  r = test::run_command(std::string(SPARSPLAT_VIEW) + " --frames 0 x.ply");
  EXPECT_EQ(r.code, 2) << r.output;
  r = test::run_command(std::string(SPARSPLAT_VIEW) + " --device gpu x.ply");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("--device"), std::string::npos) << r.output;
}
#endif

}  // namespace
}  // namespace sp
