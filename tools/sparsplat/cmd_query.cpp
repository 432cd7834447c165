// sparsplat query: open-vocabulary relevance maps, masks and localization points from a
// model's language field, optionally scored against LERF-OVS or 3D-OVS labels
// (docs/language.md).
#include <cstdio>
#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>

#include "engine/core/error.h"
#include "engine/core/log.h"
#include "engine/core/progress.h"
#include "engine/io/cameras_json.h"
#include "engine/io/image_io.h"
#include "engine/language/language_pipeline.h"
#include "engine/language/ovs_eval.h"
#include "engine/io/gaussian_ply.h"
#include "tools/sparsplat/commands.h"
#include "tools/sparsplat/common.h"

namespace sp::cli {
namespace fs = std::filesystem;

int run_query(const QueryArgs& args) {
  if (args.cameras.empty() == args.data.path.empty())
    throw_bad_input("query", "give exactly one of --cameras FILE or --dataset FOLDER");
  if (args.pool < 1 || args.pool % 2 == 0 || args.mask_pool < 1 || args.mask_pool % 2 == 0)
    throw_bad_input("--pool", "pool sizes must be odd and positive");
  const GaussianModel model = read_gaussian_ply(args.model);
  const std::string dict = args.dictionary.empty() ? dictionary_path_for(args.model) : args.dictionary;
  const LanguageField field = load_language_field(model, dict, args.top_k);

  const std::vector<Camera> cameras = cameras_to_render(args.cameras, args.data, args.split);
  if (cameras.empty()) throw_bad_input("query", "no cameras to query");

  auto label_file = [&](const Camera& c) {
    return (fs::path(args.lerf_labels) / (fs::path(c.name).stem().string() + ".json")).string();
  };
  std::vector<std::string> phrases = args.phrases;
  if (phrases.empty() && !args.lerf_labels.empty()) {
    std::set<std::string> cats;
    for (const Camera& c : cameras)
      if (fs::exists(label_file(c)))
        for (const auto& [name, _] : read_lerf_frame(label_file(c), 1, 1).categories) cats.insert(name);
    phrases.assign(cats.begin(), cats.end());
  }
  if (phrases.empty()) throw_bad_input("query", "no phrases given (and no --lerf-labels to take categories from)");
  const QueryEmbeddings q = load_query_embeddings(args.text_embeddings, args.phrases_file, phrases);
  const SparseCodes codes = sparse_codes(field);
  LerfOptions lo;
  lo.pool = args.pool;
  lo.mask_pool = args.mask_pool;
  lo.threshold = args.threshold;

  fs::create_directories(args.output);
  nlohmann::json views = nlohmann::json::array();
  double lerf_iou = 0, ovs_iou = 0;
  int lerf_count = 0, lerf_hits = 0, ovs_count = 0;
  ProgressLine progress("query", long(cameras.size()), 5.0);
  for (size_t v = 0; v < cameras.size(); ++v) {
    const Camera& cam = cameras[v];
    const int W = cam.width, H = cam.height;
    const RelevanceMaps maps = query_relevance(model, field, codes, cam, q);
    const std::string stem = fs::path(render_file_name(cam.name)).stem().string();
    const fs::path dir = fs::path(args.output) / stem;
    fs::create_directories(dir);
    LerfFrame labels;
    const bool have_lerf = !args.lerf_labels.empty() && fs::exists(label_file(cam));
    if (have_lerf) labels = read_lerf_frame(label_file(cam), W, H);
    std::map<std::string, std::vector<uint8_t>> ovs;
    const fs::path ovs_dir = fs::path(args.ovs_masks) / fs::path(cam.name).stem();
    if (!args.ovs_masks.empty() && fs::is_directory(ovs_dir)) ovs = read_ovs_masks(ovs_dir.string(), W, H);
    nlohmann::json results = nlohmann::json::array();
    for (size_t k = 0; k < phrases.size(); ++k) {
      const QueryResult r = lerf_postprocess(maps, int(k), lo);
      const std::string slug = phrase_slug(phrases[k]);
      save_png((dir / (slug + "_heatmap.png")).string(), heatmap_image(r.smoothed, W, H, true));
      save_png((dir / (slug + "_mask.png")).string(), mask_image(r.mask, W, H));
      nlohmann::json e = {{"phrase", phrases[k]}, {"level", r.level}, {"score", r.score},
                          {"point", {r.point_x, r.point_y}}};
      if (have_lerf && labels.categories.count(phrases[k])) {
        const LerfCategory& c = labels.categories.at(phrases[k]);
        const double iou = mask_iou(r.mask, c.mask);
        bool hit = false;
        for (const auto& b : c.boxes) hit |= point_in_box(double(r.point_x) + 0.5, double(r.point_y) + 0.5, b);
        e["lerf_iou"] = iou;
        e["lerf_localized"] = hit;
        lerf_iou += iou;
        lerf_hits += hit ? 1 : 0;
        ++lerf_count;
      }
      if (ovs.count(phrases[k])) {
        const double iou = mask_iou(r.mask, ovs.at(phrases[k]));
        e["ovs_iou"] = iou;
        ovs_iou += iou;
        ++ovs_count;
      }
      results.push_back(e);
    }
    views.push_back({{"image", cam.name}, {"queries", results}});
    progress.update(long(v + 1), cam.name);
  }
  nlohmann::json doc = {{"model", args.model}, {"views", views}};
  std::string summary = std::to_string(cameras.size()) + " views x " + std::to_string(phrases.size()) + " phrases";
  if (lerf_count > 0) {
    doc["lerf_ovs"] = {{"miou", lerf_iou / lerf_count}, {"localization_accuracy", double(lerf_hits) / lerf_count},
                       {"queries", lerf_count}};
    char s[128];
    std::snprintf(s, sizeof s, "; LERF-OVS mIoU %.3f, localization %.3f over %d", lerf_iou / lerf_count,
                  double(lerf_hits) / lerf_count, lerf_count);
    summary += s;
  }
  if (ovs_count > 0) {
    doc["ovs_3d"] = {{"miou", ovs_iou / ovs_count}, {"queries", ovs_count}};
    char s[96];
    std::snprintf(s, sizeof s, "; 3D-OVS mIoU %.3f over %d", ovs_iou / ovs_count, ovs_count);
    summary += s;
  }
  write_json_file((fs::path(args.output) / "query.json").string(), doc.dump(2));
  progress.finish(summary + " in " + args.output);
  return 0;
}

}  // namespace sp::cli
