#include "tools/sparsplat/common.h"

#include <cmath>
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "engine/core/atomic_file.h"
#include "engine/core/error.h"

namespace sp::cli {

Dataset load_dataset(const DatasetArgs& args) {
  DatasetOptions o;
  o.downscale = args.downscale;
  o.resolution = args.resolution;
  o.train_views = args.train_views;
  o.train_ids = args.train_ids;
  o.test_ids = args.test_ids;
  o.white_background = !args.black_background_for_rgba;
  return Dataset::load(args.path, o);
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
  return s;
}

std::string png_name(const std::string& image_name) {
  return std::filesystem::path(image_name).stem().string() + ".png";
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
  j["views"] = nlohmann::json::array();
  for (const auto& v : scores.views)
    j["views"].push_back({{"name", v.name}, {"psnr", number(v.psnr)}, {"ssim", number(v.ssim)}});
  for (const auto& [key, value] : extra) j[key] = nlohmann::json::parse(value);
  return j.dump(2);
}

void print_scores(const Scores& scores) {
  std::printf("%-40s %8s %8s\n", "view", "PSNR", "SSIM");
  for (const auto& v : scores.views) std::printf("%-40s %8.3f %8.4f\n", v.name.c_str(), v.psnr, v.ssim);
  std::printf("%-40s %8.3f %8.4f\n", "mean", scores.mean_psnr, scores.mean_ssim);
}

}  // namespace sp::cli
