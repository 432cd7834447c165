// sparsplat render: a Gaussian model (any format of engine/io/model_file.h, or a recon output folder) through a list of cameras to PNG
// files, on any renderer of the registry (engine/pipeline/devices.h).
#include <cstdio>
#include <filesystem>
#include <memory>

#include "engine/core/error.h"
#include "engine/core/log.h"
#include "engine/core/progress.h"
#include "engine/io/model_file.h"
#include "engine/io/image_io.h"
#include "engine/pipeline/devices.h"
#include "engine/train/appearance.h"
#include "engine/train/appearance_fit.h"
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

  // A photo's look (docs/in_the_wild.md): the model's colour codes sit beside it.
  const bool wants_code = !args.appearance_from.empty() || !args.appearance.empty();
  if (!args.appearance_from.empty() && !args.appearance.empty())
    throw_bad_input("render", "give one of --appearance-from PHOTO or --appearance IMAGE");
  const fs::path codes_file = fs::path(args.model).parent_path() / "appearance.json";
  AppearanceCodes codes;
  if (wants_code) {
    if (!fs::is_regular_file(codes_file))
      throw_bad_input(args.model, "has no appearance codes (no " + codes_file.filename().string() +
                                      " beside it): train with `recon --appearance on` to render in a photo's light");
    codes = read_appearance_codes(codes_file.string());
  }
  Image photo;
  if (!args.appearance_from.empty()) photo = load_image(args.appearance_from, 3);  // BadInput when unreadable

  const std::vector<Camera> cameras = cameras_to_render(args.cameras, args.data, args.split);
  if (cameras.empty()) throw_bad_input(args.cameras.empty() ? args.data.path : args.cameras, "no cameras to render");

  // Every renderer computes the same image (tests/display: Vulkan ~90 dB from the CPU's).
  const auto rasterizer = make_rasterizer(resolve_device(args.device, DeviceUse::Render, "render"));
  RenderOptions ro;
  ro.background = background;
  ro.sh_degree = args.sh_degree >= 0 ? args.sh_degree : model.sh_degree;
  std::vector<float> code;
  if (!args.appearance.empty()) {
    const int k = codes.find(args.appearance);
    if (k < 0) throw_bad_input(args.appearance, "is not one of the " + std::to_string(codes.size()) +
                                                    " train images with a code in " + codes_file.string());
    code = codes.code(size_t(k));
  }
  if (!photo.empty()) {
    // The photo's own camera: render it, and fit the code taking that render to the photo.
    const std::vector<Camera> pool = args.cameras.empty() ? cameras_to_render("", args.data, "all") : cameras;
    const std::string stem = fs::path(args.appearance_from).stem().string();
    const Camera* own = nullptr;
    for (const Camera& c : pool)
      if (fs::path(c.name).stem().string() == stem) own = &c;
    if (!own)
      throw_bad_input(args.appearance_from, "no camera is named like this photo (its pose is needed to fit its light)");
    if (photo.width != own->width || photo.height != own->height) photo = resize_image(photo, own->width, own->height);
    code = fit_appearance_code(rasterizer->forward(*own, params_of(model), ro).color, photo);
    char line[200];
    std::snprintf(line, sizeof line, "appearance of %s: gains %.3f %.3f %.3f, offsets %.3f %.3f %.3f",
                  own->name.c_str(), double(code[0]), double(code[4]), double(code[8]), double(code[9]),
                  double(code[10]), double(code[11]));
    log_info(line);
  }
  fs::create_directories(args.output);
  ProgressLine progress("render", long(cameras.size()), 5.0);
  for (size_t i = 0; i < cameras.size(); ++i) {
    Image color = rasterizer->forward(cameras[i], params_of(model), ro).color;
    if (!code.empty()) color = apply_affine_colour(code, color, true);
    save_png((fs::path(args.output) / render_file_name(cameras[i].name)).string(), color);
    progress.update(long(i + 1), cameras[i].name);
  }
  progress.finish(std::to_string(cameras.size()) + " images in " + args.output);
  return 0;
}

}  // namespace sp::cli
