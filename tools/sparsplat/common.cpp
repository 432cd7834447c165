#include "tools/sparsplat/common.h"

#include <filesystem>

#include "engine/core/atomic_file.h"
#include "engine/core/error.h"
#include "engine/io/cameras_json.h"

namespace sp::cli {

Dataset load_dataset(const DatasetArgs& args) {
  DatasetOptions o;
  o.downscale = args.downscale;
  o.resolution = args.resolution;
  o.train_views = args.train_views;
  o.train_ids = args.train_ids;
  o.test_ids = args.test_ids;
  o.white_background = !args.black_background_for_rgba;
  o.protocol = args.protocol;
  if (args.cache_bytes) o.cache_bytes = args.cache_bytes;
  return Dataset::load(args.path, o);
}

std::vector<Camera> cameras_to_render(const std::string& cameras_json, const DatasetArgs& data_args,
                                      const std::string& split) {
  if (!cameras_json.empty()) return read_cameras_json(cameras_json);
  const Dataset data = load_dataset(data_args);
  std::vector<int> ids;
  if (split == "test") ids = data.test_ids;
  else if (split == "train") ids = data.train_ids;
  else if (split == "all")
    for (size_t i = 0; i < data.size(); ++i) ids.push_back(int(i));
  else throw_bad_input("--split", "expected test, train or all");
  std::vector<Camera> cameras;
  for (int id : ids) cameras.push_back(data.cameras[size_t(id)]);
  return cameras;
}

size_t parse_byte_size(const std::string& text, const std::string& option) {
  size_t used = 0;
  double v = -1;
  try {
    v = std::stod(text, &used);
  } catch (...) {
  }
  double unit = 1;
  const std::string suffix = used ? text.substr(used) : "";
  if (suffix == "K" || suffix == "k") unit = 1024.0;
  else if (suffix == "M" || suffix == "m") unit = 1024.0 * 1024;
  else if (suffix == "G" || suffix == "g") unit = 1024.0 * 1024 * 1024;
  else if (suffix == "T" || suffix == "t") unit = 1024.0 * 1024 * 1024 * 1024;
  else if (!suffix.empty()) used = 0;
  if (!used || !(v > 0) || v * unit > 1.8e19)
    throw_bad_input(option, "expected a size such as 8G, 512M or a number of bytes, found '" + text + "'");
  return size_t(v * unit);
}

glm::vec3 parse_background(const std::vector<float>& rgb, const std::string& option) {
  if (rgb.size() != 3) throw_bad_input(option, "expects three values r,g,b");
  for (float v : rgb)
    if (!(v >= 0.0f && v <= 1.0f)) throw_bad_input(option, "values must lie in [0, 1]");
  return {rgb[0], rgb[1], rgb[2]};
}

void write_json_file(const std::string& path, const std::string& json_text) {
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
  write_text_atomic(path, json_text + "\n");
}

}  // namespace sp::cli
