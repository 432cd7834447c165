#include "tools/sparsplat/common.h"

#include <cmath>
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

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

glm::vec3 parse_background(const std::vector<float>& rgb, const std::string& option) {
  if (rgb.size() != 3) throw_bad_input(option, "expects three values r,g,b");
  for (float v : rgb)
    if (!(v >= 0.0f && v <= 1.0f)) throw_bad_input(option, "values must lie in [0, 1]");
  return {rgb[0], rgb[1], rgb[2]};
}

Scores summarize(std::vector<ViewScore> views) {
  Scores s;
  s.views = std::move(views);
  for (const auto& v : s.views) {
    s.mean_psnr += v.psnr;
    s.mean_ssim += v.ssim;
  }
  if (!s.views.empty()) {
    s.mean_psnr /= double(s.views.size());
    s.mean_ssim /= double(s.views.size());
  }
  double masked = 0, masked_ssim = 0;
  int n_masked = 0;
  for (const auto& v : s.views)
    if (v.masked_psnr >= 0) {
      masked += v.masked_psnr;
      masked_ssim += v.masked_ssim;
      ++n_masked;
    }
  if (n_masked) {
    s.mean_masked_psnr = masked / n_masked;
    s.mean_masked_ssim = masked_ssim / n_masked;
  }
  return s;
}

std::string png_name(const std::string& image_name) {
  // Names may carry a subfolder (Blender: "test/r_0.png"); keep it in the file name so
  // train and test views with the same stem do not overwrite each other.
  std::filesystem::path p(image_name);
  std::string flat = (p.parent_path() / p.stem()).generic_string();
  for (char& c : flat)
    if (c == '/') c = '_';
  return flat + ".png";
}

void write_json_file(const std::string& path, const std::string& json_text) {
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
  write_text_atomic(path, json_text + "\n");
}

namespace {
// JSON has no infinity: identical images give PSNR = inf, written as null.
nlohmann::json number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }
}  // namespace

std::string scores_json(const Scores& scores, const std::vector<std::pair<std::string, std::string>>& extra) {
  nlohmann::ordered_json j;
  j["mean"] = {{"psnr", number(scores.mean_psnr)}, {"ssim", number(scores.mean_ssim)}};
  if (scores.mean_masked_psnr >= 0) {
    j["mean"]["masked_psnr"] = number(scores.mean_masked_psnr);
    j["mean"]["masked_ssim"] = number(scores.mean_masked_ssim);
  }
  j["views"] = nlohmann::json::array();
  for (const auto& v : scores.views) {
    nlohmann::ordered_json e = {{"name", v.name}, {"psnr", number(v.psnr)}, {"ssim", number(v.ssim)}};
    if (v.masked_psnr >= 0) {
      e["masked_psnr"] = number(v.masked_psnr);
      e["masked_ssim"] = number(v.masked_ssim);
    }
    j["views"].push_back(e);
  }
  for (const auto& [key, value] : extra) j[key] = nlohmann::json::parse(value);
  return j.dump(2);
}

void print_scores(const Scores& scores) {
  const bool masked = scores.mean_masked_psnr >= 0;
  std::printf("%-32s %8s %8s%s\n", "view", "PSNR", "SSIM", masked ? "  PSNR-M  SSIM-M" : "");
  auto row = [&](const std::string& name, double p, double s, double m, double ms) {
    std::printf("%-32s %8.3f %8.4f", name.c_str(), p, s);
    if (masked) std::printf(m >= 0 ? " %7.3f %7.4f" : "       -       -", m, ms);
    std::printf("\n");
  };
  for (const auto& v : scores.views) row(v.name, v.psnr, v.ssim, v.masked_psnr, v.masked_ssim);
  row("mean", scores.mean_psnr, scores.mean_ssim, scores.mean_masked_psnr, scores.mean_masked_ssim);
}

}  // namespace sp::cli
