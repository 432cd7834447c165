// sparsplat render: a PLY model through a list of cameras to PNG files.
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>

#include "engine/core/error.h"
#include "engine/core/log.h"
#include "engine/core/progress.h"
#include "engine/io/cameras_json.h"
#include "engine/io/image_io.h"
#include "engine/scene/model_ply.h"
#include "tools/sparsplat/common.h"
#include "tools/sparsplat/device.h"

#if SPARSPLAT_HAS_VULKAN
#include "engine/display/splat_renderer.h"
#endif

namespace sp::cli {
namespace fs = std::filesystem;

int run_render(const RenderArgs& args) {
  const glm::vec3 background = parse_background(args.background, "--background");
  if (args.cameras.empty() == args.data.path.empty())
    throw_bad_input("render", "give exactly one of --cameras FILE or --dataset FOLDER");
  const GaussianModel model = read_gaussian_ply(args.model);
  if (args.sh_degree > model.sh_degree)
    throw_bad_input("--sh-degree", "the model stores degree " + std::to_string(model.sh_degree) + " only");

  const std::vector<Camera> cameras = cameras_to_render(args.cameras, args.data, args.split);
  if (cameras.empty()) throw_bad_input(args.cameras.empty() ? args.data.path : args.cameras, "no cameras to render");

  // Both backends compute the same image (tests/display: >= 40 dB apart, typically ~90).
  std::function<Image(const Camera&, const RenderOptions&)> render_view;
  std::unique_ptr<Rasterizer> rasterizer;
#if SPARSPLAT_HAS_VULKAN
  std::unique_ptr<VulkanDevice> vulkan;
  std::unique_ptr<SplatRenderer> splat_renderer;
#endif
  if (args.backend == "vulkan" && args.device == "cuda")
    throw_bad_input("--device cuda", "applies to --backend cpu (the tile rasterizer), not vulkan");
  if (args.backend == "vulkan") {
#if SPARSPLAT_HAS_VULKAN
    std::string why;
    vulkan = VulkanDevice::create({}, &why);
    if (!vulkan) throw_bad_input("--backend vulkan", why + " (use --backend cpu)");
    log_info("render: Vulkan device " + vulkan->name());
    splat_renderer = std::make_unique<SplatRenderer>(*vulkan);
    splat_renderer->set_model(model);
    render_view = [&](const Camera& c, const RenderOptions& o) { return splat_renderer->render(c, o).color; };
#else
    throw_bad_input("--backend vulkan", "this build has no Vulkan display (configure with SPARSPLAT_VULKAN=ON)");
#endif
  } else if (args.backend == "cpu") {
    rasterizer = make_rasterizer_on(resolve_device(args.device, "render"));
    render_view = [&](const Camera& c, const RenderOptions& o) { return rasterizer->forward(c, params_of(model), o).color; };
  } else {
    throw_bad_input("--backend", "expected cpu or vulkan, got '" + args.backend + "'");
  }

  fs::create_directories(args.output);
  RenderOptions ro;
  ro.background = background;
  ro.sh_degree = args.sh_degree >= 0 ? args.sh_degree : model.sh_degree;
  ProgressLine progress("render", long(cameras.size()), 5.0);
  for (size_t i = 0; i < cameras.size(); ++i) {
    save_png((fs::path(args.output) / png_name(cameras[i].name)).string(), render_view(cameras[i], ro));
    progress.update(long(i + 1), cameras[i].name);
  }
  progress.finish(std::to_string(cameras.size()) + " images in " + args.output);
  return 0;
}

}  // namespace sp::cli
