// sparsplat info: what is in a dataset folder, a Gaussian model file (any format of
// engine/io/model_file.h) or a recon output folder.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "engine/core/error.h"
#include "engine/io/model_file.h"
#include "tools/sparsplat/common.h"

namespace sp::cli {
namespace fs = std::filesystem;

namespace {
void model_info(const std::string& path, const GaussianModel& m, const ModelFileInfo& file) {
  std::printf("Gaussian model %s\n  format: %s%s%s\n  Gaussians: %zu\n  SH degree: %d\n  extra channels: %d\n",
              path.c_str(), model_format_name(file.format), file.details.empty() ? "" : ", ", file.details.c_str(),
              m.size(), m.sh_degree, m.extra_channels);
  std::error_code ec;
  const auto bytes = fs::file_size(path, ec);
  if (!ec && m.size() > 0)
    std::printf("  file: %ju bytes (%.1f per Gaussian)\n", uintmax_t(bytes), double(bytes) / double(m.size()));
  if (m.size() == 0) return;
  glm::vec3 lo(INFINITY), hi(-INFINITY);
  double opacity = 0, scale = 0;
  for (size_t i = 0; i < m.size(); ++i) {
    for (int d = 0; d < 3; ++d) {
      lo[d] = std::min(lo[d], m.means[i * 3 + size_t(d)]);
      hi[d] = std::max(hi[d], m.means[i * 3 + size_t(d)]);
      scale += std::exp(double(m.log_scales[i * 3 + size_t(d)])) / 3.0;
    }
    opacity += 1.0 / (1.0 + std::exp(-double(m.opacities[i])));
  }
  std::printf("  bounds: [%.3f %.3f %.3f] .. [%.3f %.3f %.3f]\n  mean opacity: %.3f\n  mean scale: %.4g\n", lo.x, lo.y,
              lo.z, hi.x, hi.y, hi.z, opacity / double(m.size()), scale / double(m.size()));
}

// A JSON file of a recon folder; BadInput naming it when it is not JSON.
nlohmann::json read_json_file(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw_bad_input(path.string(), "cannot be read");
  nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw_bad_input(path.string(), "is not a JSON object");
  return j;
}

std::string number_or_dash(const nlohmann::json& j, const char* key, const char* format) {
  if (!j.contains(key) || !j[key].is_number()) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, format, j[key].get<double>());
  return buf;
}

// What `sparsplat recon -o DIR` left in DIR: the run, its scores and its model.
void recon_info(const fs::path& dir) {
  // Everything is read before anything is printed: a broken file is the only line.
  const bool has_split = fs::is_regular_file(dir / "split.json"), has_metrics = fs::is_regular_file(dir / "metrics.json");
  const nlohmann::json s = has_split ? read_json_file(dir / "split.json") : nlohmann::json();
  const nlohmann::json m = has_metrics ? read_json_file(dir / "metrics.json") : nlohmann::json();
  ModelFileInfo file;
  const GaussianModel model = read_gaussian_model((dir / "point_cloud.ply").string(), &file);
  std::printf("reconstruction %s\n", dir.string().c_str());
  if (has_split) {
    std::printf("  dataset: %s (%s)\n  split: %zu train, %zu test (%s)\n", s.value("dataset", "?").c_str(),
                s.value("format", "?").c_str(), s.value("train_ids", nlohmann::json::array()).size(),
                s.value("test_ids", nlohmann::json::array()).size(), s.value("protocol", "?").c_str());
  }
  if (has_metrics) {
    const nlohmann::json mean = m.value("mean", nlohmann::json::object()), start = m.value("initial_mean", nlohmann::json::object());
    std::printf("  test views: PSNR %s  SSIM %s", number_or_dash(mean, "psnr", "%.3f").c_str(),
                number_or_dash(mean, "ssim", "%.4f").c_str());
    if (mean.contains("masked_psnr"))
      std::printf("  PSNR-M %s  SSIM-M %s", number_or_dash(mean, "masked_psnr", "%.3f").c_str(),
                  number_or_dash(mean, "masked_ssim", "%.4f").c_str());
    std::printf("  (untrained: PSNR %s", number_or_dash(start, "psnr", "%.3f").c_str());
    if (start.contains("masked_psnr")) std::printf(", PSNR-M %s", number_or_dash(start, "masked_psnr", "%.3f").c_str());
    std::printf(")\n  training: %s iterations in %s s on %s, %s threads, seed %s, start: %s\n",
                number_or_dash(m, "iterations", "%.0f").c_str(), number_or_dash(m, "train_seconds", "%.1f").c_str(),
                m.value("device", "?").c_str(), number_or_dash(m, "threads", "%.0f").c_str(),
                number_or_dash(m, "seed", "%.0f").c_str(), m.value("init", "?").c_str());
    if (m.contains("regularizers") && m["regularizers"].is_string())
      std::printf("  regularizers: %s\n", m["regularizers"].get<std::string>().c_str());
  }
  model_info((dir / "point_cloud.ply").string(), model, file);
}

bool is_recon_folder(const fs::path& dir) {
  return fs::is_regular_file(dir / "point_cloud.ply") &&
         (fs::is_regular_file(dir / "metrics.json") || fs::is_regular_file(dir / "split.json"));
}

void dataset_info(const DatasetArgs& args) {
  const Dataset d = load_dataset(args);
  std::printf("dataset %s\n  format: %s\n  views: %zu\n  resolution: %dx%d\n  split: %zu train, %zu test (%s)\n",
              d.root.c_str(), d.format.c_str(), d.size(), d.cameras.empty() ? 0 : d.cameras[0].width,
              d.cameras.empty() ? 0 : d.cameras[0].height, d.train_ids.size(), d.test_ids.size(), d.protocol.c_str());
  std::printf("  train ids:");
  for (int i : d.train_ids) std::printf(" %d", i);
  std::printf("\n  test ids:");
  for (int i : d.test_ids) std::printf(" %d", i);
  std::printf("\n  SfM points: %zu%s\n  scene extent: %.4g\n", d.points.size(),
              d.points_from_train_views_only ? " (seen by >= 2 train views)" : "", d.scene_extent());
  if (!d.cameras.empty()) {
    const Camera& c = d.cameras[0];
    std::printf("  first camera: %s fx %.2f fy %.2f cx %.2f cy %.2f\n", c.name.c_str(), c.fx, c.fy, c.cx, c.cy);
  }
}
}  // namespace

int run_info(const InfoArgs& args) {
  if (!fs::exists(args.path)) throw_bad_input(args.path, "no such file or folder");
  if (fs::is_regular_file(args.path)) {
    ModelFileInfo file;
    const GaussianModel model = read_gaussian_model(args.path, &file);  // names the formats it knows otherwise
    model_info(args.path, model, file);
  } else if (is_recon_folder(args.path)) {
    recon_info(args.path);
  } else {
    dataset_info(args.data);
  }
  return 0;
}

}  // namespace sp::cli
