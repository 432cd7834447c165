#pragma once
// Pieces the subcommands share: the dataset from options, colours and camera lists from
// options, and JSON output.
#include <string>
#include <vector>

#include "engine/core/camera.h"
#include "engine/scene/dataset.h"
#include "tools/sparsplat/commands.h"

namespace sp::cli {

Dataset load_dataset(const DatasetArgs& args);
// "8G", "512M", "64K", "1.5G" (binary units) or a number of bytes; BadInput naming `option`.
size_t parse_byte_size(const std::string& text, const std::string& option);
glm::vec3 parse_background(const std::vector<float>& rgb, const std::string& option);
// The cameras of an INRIA cameras.json (when `cameras_json` is set), or of a dataset's
// split: "test", "train" or "all".
std::vector<Camera> cameras_to_render(const std::string& cameras_json, const DatasetArgs& data,
                                      const std::string& split);

// Writes a JSON document (already serialized) atomically, creating the folder.
void write_json_file(const std::string& path, const std::string& json_text);

}  // namespace sp::cli
