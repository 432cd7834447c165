// sparsplat render: a Gaussian model (any format of engine/io/model_file.h, or a recon output folder) through a list of cameras to PNG
// files, on any renderer of the registry (engine/pipeline/devices.h).
#include <cstdio>
#include <filesystem>
#include <memory>

#include "engine/core/error.h"
#include "engine/core/progress.h"
#include "engine/io/model_file.h"
#include "engine/io/image_io.h"
#include "engine/pipeline/devices.h"
#include "tools/sparsplat/common.h"

namespace sp::cli {
namespace fs = std::filesystem;

int run_render(const RenderArgs& given) {
  RenderArgs args = given;
  const glm::vec3 background = parse_background(args.background, "--background");
  // A recon output folder: its model, and its cameras unless others are given.
  if (fs::is_directory(args.model)) {
    const fs::path folder(args.model);
    if (!fs::is_regular_file(folder / "point_cloud.ply"))
      throw_bad_input(args.model, "is a folder without point_cloud.ply (expected a PLY or a recon output folder)");
    args.model = (folder / "point_cloud.ply").string();
    if (args.cameras.empty() && args.data.path.empty()) {
      if (!fs::is_regular_file(folder / "cameras.json"))
        throw_bad_input(folder.string(), "has no cameras.json; give --cameras FILE or --dataset FOLDER");
      args.cameras = (folder / "cameras.json").string();
    }
  }
  if (args.cameras.empty() == args.data.path.empty())
    throw_bad_input("render", "give exactly one of --cameras FILE or --dataset FOLDER");
  const GaussianModel model = read_gaussian_model(args.model);
  if (args.sh_degree > model.sh_degree)
    throw_bad_input("--sh-degree", "the model stores degree " + std::to_string(model.sh_degree) + " only");

  const std::vector<Camera> cameras = cameras_to_render(args.cameras, args.data, args.split);
  if (cameras.empty()) throw_bad_input(args.cameras.empty() ? args.data.path : args.cameras, "no cameras to render");

  // Every renderer computes the same image (tests/display: Vulkan ~90 dB from the CPU's).
  const auto rasterizer = make_rasterizer(resolve_device(args.device, DeviceUse::Render, "render"));
  fs::create_directories(args.output);
  RenderOptions ro;
  ro.background = background;
  ro.sh_degree = args.sh_degree >= 0 ? args.sh_degree : model.sh_degree;
  ProgressLine progress("render", long(cameras.size()), 5.0);
  for (size_t i = 0; i < cameras.size(); ++i) {
    save_png((fs::path(args.output) / render_file_name(cameras[i].name)).string(),
             rasterizer->forward(cameras[i], params_of(model), ro).color);
    progress.update(long(i + 1), cameras[i].name);
  }
  progress.finish(std::to_string(cameras.size()) + " images in " + args.output);
  return 0;
}

}  // namespace sp::cli
