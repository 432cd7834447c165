// sparsplat render: a PLY model through a list of cameras to PNG files.
#include <cstdio>
#include <filesystem>

#include "engine/core/error.h"
#include "engine/core/log.h"
#include "engine/core/progress.h"
#include "engine/io/cameras_json.h"
#include "engine/io/image_io.h"
#include "engine/scene/model_ply.h"
#include "tools/sparsplat/common.h"

namespace sp::cli {
namespace fs = std::filesystem;

int run_render(const RenderArgs& args) {
  const glm::vec3 background = parse_background(args.background, "--background");
  if (args.cameras.empty() == args.data.path.empty())
    throw_bad_input("render", "give exactly one of --cameras FILE or --dataset FOLDER");
  const GaussianModel model = read_gaussian_ply(args.model);
  if (args.sh_degree > model.sh_degree)
    throw_bad_input("--sh-degree", "the model stores degree " + std::to_string(model.sh_degree) + " only");

  std::vector<Camera> cameras;
  if (!args.cameras.empty()) {
    cameras = read_cameras_json(args.cameras);
  } else {
    const Dataset data = load_dataset(args.data);
    std::vector<int> ids;
    if (args.split == "test") ids = data.test_ids;
    else if (args.split == "train") ids = data.train_ids;
    else
      for (size_t i = 0; i < data.size(); ++i) ids.push_back(int(i));
    for (int id : ids) cameras.push_back(data.cameras[size_t(id)]);
  }
  if (cameras.empty()) throw_bad_input(args.cameras.empty() ? args.data.path : args.cameras, "no cameras to render");

  fs::create_directories(args.output);
  auto rasterizer = make_cpu_rasterizer();
  RenderOptions ro;
  ro.background = background;
  ro.sh_degree = args.sh_degree >= 0 ? args.sh_degree : model.sh_degree;
  ProgressLine progress("render", long(cameras.size()), 5.0);
  for (size_t i = 0; i < cameras.size(); ++i) {
    const RenderOutput out = rasterizer->forward(cameras[i], params_of(model), ro);
    save_png((fs::path(args.output) / png_name(cameras[i].name)).string(), out.color);
    progress.update(long(i + 1), cameras[i].name);
  }
  progress.finish(std::to_string(cameras.size()) + " images in " + args.output);
  return 0;
}

}  // namespace sp::cli
