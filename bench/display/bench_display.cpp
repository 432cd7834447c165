// Frame time of the Vulkan splat pipeline (engine/display, docs/viewer.md) against the CPU
// tile rasterizer's forward pass on the same random scene and camera, in one run. On this
// project's machines the Vulkan device is Mesa's lavapipe (CPU); on a GPU the same binary
// gives GPU frame times.
//
//   bench_display [--sizes 100000,1000000] [--width 1280] [--height 720] [--repeats R]
//                 [--no-cpu]
//
// Per size: median of R frames after one warm-up. "vulkan" = submit to fence (projection,
// sort and draw; the image stays on the device as in the viewer), with the GPU timestamps of
// the three stages; "cpu" = Rasterizer::forward (projection, binning, blending, all threads).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "engine/core/rng.h"
#include "engine/display/splat_renderer.h"
#include "engine/render/rasterizer.h"
#include "bench/random_frustum_scene.h"

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<size_t> sizes = {100000, 1000000};
  int width = 1280, height = 720, repeats = 5;
  bool cpu = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "error: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--sizes") {
      sizes.clear();
      std::string list = next();
      for (size_t p = 0; p < list.size();) {
        const size_t q = list.find(',', p);
        sizes.push_back(std::stoul(list.substr(p, q - p)));
        p = q == std::string::npos ? list.size() : q + 1;
      }
    } else if (a == "--width") width = std::atoi(next().c_str());
    else if (a == "--height") height = std::atoi(next().c_str());
    else if (a == "--repeats") repeats = std::max(1, std::atoi(next().c_str()));
    else if (a == "--no-cpu") cpu = false;
    else {
      std::fprintf(stderr, "usage: bench_display [--sizes N,N] [--width W] [--height H] [--repeats R] [--no-cpu]\n");
      return 2;
    }
  }
  std::string why;
  auto device = sp::VulkanDevice::create({}, &why);
  if (!device) {
    std::fprintf(stderr, "error: %s\n", why.c_str());
    return 1;
  }
  std::printf("device: %s%s; %dx%d, SH degree 3, median of %d frames\n", device->name().c_str(),
              device->is_cpu() ? " (CPU Vulkan)" : "", width, height, repeats);
  std::printf("%10s %12s %12s %10s %10s %10s %12s %8s\n", "gaussians", "vulkan ms", "vulkan FPS", "project", "sort",
              "draw", "cpu fwd ms", "cpu/vk");
  sp::SplatRenderer renderer(*device);
  auto rasterizer = sp::make_cpu_rasterizer();
  for (size_t n : sizes) {
    sp::Camera cam;
    sp::GaussianModel model;
    sp::bench::random_frustum_scene(size_t(n), width, height, cam, model, 0.5f, 0.1f);
    sp::RenderOptions options;
    renderer.set_model(model);
    std::vector<double> vk, proj, sort, draw, cpu_ms;
    for (int r = 0; r <= repeats; ++r) {
      const sp::SplatRender out = renderer.render(cam, options);
      if (r == 0) continue;  // warm-up
      vk.push_back(out.gpu_seconds * 1e3);
      proj.push_back(out.project_ms);
      sort.push_back(out.sort_ms);
      draw.push_back(out.draw_ms);
    }
    if (cpu) {
      for (int r = 0; r <= repeats; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        rasterizer->forward(cam, sp::params_of(model), options);
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        if (r > 0) cpu_ms.push_back(ms);
      }
    }
    const double v = median(vk), c = median(cpu_ms);
    std::printf("%10zu %12.1f %12.2f %10.1f %10.1f %10.1f %12.1f %8.2f\n", n, v, 1e3 / v, median(proj), median(sort),
                median(draw), c, cpu ? c / v : 0.0);
    std::fflush(stdout);
  }
  return 0;
}
