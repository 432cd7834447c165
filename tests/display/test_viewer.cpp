// sparsplat-view under Xvfb on a model trained by another tool (OpenSplat's statue): renders
// frames at a dataset camera, resizes and minimizes the window, takes a screenshot of the
// swapchain image and compares it with the headless Vulkan and the CPU render of that view.
// Skips without the viewer target, xvfb-run, a Vulkan driver or the shared data.
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
                          " --frames 4 --no-ui --exit --validation --exercise-window --screenshot " + shot;
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
                            "/cameras.json --camera 3 --frames 2 --no-ui --exit --screenshot " + shot;
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

TEST(Viewer, BadInputIsOneLineAndExitCode2) {
  const std::string out = test::temp_dir("viewer-bad");
  test::CommandResult r = test::run_command(std::string(SPARSPLAT_VIEW) + " " + out + "/missing.ply");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("missing.ply"), std::string::npos) << r.output;
  r = test::run_command(std::string(SPARSPLAT_VIEW) + " --frames 0 x.ply");
  EXPECT_EQ(r.code, 2) << r.output;
}
#endif

}  // namespace
}  // namespace sp
