#pragma once
// Pieces the subcommands share: dataset loading from options, rendering a list of views
// to PNG, and evaluating renders against ground truth.
#include <string>
#include <vector>

#include "engine/core/camera.h"
#include "engine/core/image.h"
#include "engine/render/rasterizer.h"
#include "engine/scene/dataset.h"
#include "tools/sparsplat/commands.h"

namespace sp::cli {

Dataset load_dataset(const DatasetArgs& args);
glm::vec3 parse_background(const std::vector<float>& rgb, const std::string& option);
// The cameras of an INRIA cameras.json (when `cameras_json` is set), or of a dataset's
// split: "test", "train" or "all".
std::vector<Camera> cameras_to_render(const std::string& cameras_json, const DatasetArgs& data,
                                      const std::string& split);

struct ViewScore {
  std::string name;
  double psnr = 0, ssim = 0;
  double masked_psnr = -1;  // PSNR inside the object mask; < 0 when the view has no mask
  double masked_ssim = -1;  // SSIM with the background whitened by the mask (DTU tables); < 0 without
};
struct Scores {
  std::vector<ViewScore> views;
  double mean_psnr = 0, mean_ssim = 0;
  double mean_masked_psnr = -1;  // over the views with a mask; < 0 when none has one
  double mean_masked_ssim = -1;
};
Scores summarize(std::vector<ViewScore> views);

// "<stem>.png" for an image file name ("test/r_0.png" -> "test_r_0.png").
std::string png_name(const std::string& image_name);

// Writes a JSON document (already serialized) atomically, creating the folder.
void write_json_file(const std::string& path, const std::string& json_text);
// {"views": [...], "mean": {...}} plus the extra key/values (serialized JSON values).
std::string scores_json(const Scores& scores, const std::vector<std::pair<std::string, std::string>>& extra);
// Prints a small table of per-view and mean metrics to stdout.
void print_scores(const Scores& scores);

}  // namespace sp::cli
