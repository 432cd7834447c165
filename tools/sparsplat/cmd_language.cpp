// sparsplat language: trains the language field (sparse codes over per-level dictionaries)
// of a frozen Gaussian model from LangSplat-format features (docs/language.md).
#include <cstdio>
#include <filesystem>

#include "engine/core/error.h"
#include "engine/core/log.h"
#include "engine/core/progress.h"
#include "engine/language/language_pipeline.h"
#include "engine/scene/model_ply.h"
#include "tools/sparsplat/commands.h"
#include "tools/sparsplat/common.h"

namespace sp::cli {

int run_language(const LanguageArgs& args) {
  if (args.iterations < 1) throw_bad_input("--iterations", "must be at least 1");
  if (args.codes < 1 || args.codes > 4096) throw_bad_input("--codes", "must lie in [1, 4096]");
  if (args.top_k < 1 || args.top_k > args.codes || args.top_k > 256) throw_bad_input("--top-k", "must lie in [1, min(codes, 256)]");
  if (!(args.lr > 0) || !(args.lr_dictionary > 0)) throw_bad_input("--lr", "learning rates must be positive");
  if (args.split != "train" && args.split != "all") throw_bad_input("--split", "expected train or all");
  if (!std::filesystem::is_directory(args.features))
    throw_bad_input(args.features, "language feature folder not found (LangSplat's language_features/)");
  GaussianModel model = read_gaussian_ply(args.model);
  model.validate(args.model);
  const Dataset data = load_dataset(args.data);
  std::vector<Camera> cameras;
  if (args.split == "train")
    for (int id : data.train_ids) cameras.push_back(data.cameras[size_t(id)]);
  else
    cameras = data.cameras;
  if (cameras.empty()) throw_bad_input(args.data.path, "no views to train the language field on");
  std::vector<LanguageView> views = load_language_views(cameras, args.features);
  log_info("language: " + std::to_string(views.size()) + " views, " + std::to_string(model.size()) + " Gaussians, " +
           std::to_string(views.front().targets.dims) + "-d features");

  LanguageTrainOptions o;
  o.iterations = args.iterations;
  o.codes = args.codes;
  o.top_k = args.top_k;
  o.lr_logits = args.lr;
  o.lr_dictionary = args.lr_dictionary;
  o.seed = args.seed;
  // The model's own extra channels (if any) are replaced by the language logits.
  GaussianModel geometry = model;
  geometry.extra_channels = 0;
  geometry.extras.clear();
  auto rasterizer = make_cpu_rasterizer();
  LanguageField initial = initialize_language_field(geometry.size(), views, o);
  LanguageTrainer trainer(geometry, std::move(views), std::move(initial), o, *rasterizer);
  ProgressLine progress("language", o.iterations, 10.0);
  float ema = -1;
  trainer.run([&](long it, float loss) {
    ema = ema < 0 ? loss : 0.95f * ema + 0.05f * loss;
    char detail[64];
    std::snprintf(detail, sizeof detail, "loss %.4f", double(ema));
    progress.update(it, detail);
  });
  store_language_field(geometry, trainer.field());
  std::filesystem::path out(args.output);
  if (out.has_parent_path()) std::filesystem::create_directories(out.parent_path());
  write_gaussian_ply(args.output, geometry);
  write_dictionary(dictionary_path_for(args.output), trainer.field());
  char detail[160];
  std::snprintf(detail, sizeof detail, "loss %.4f; wrote %s and %s", double(ema), args.output.c_str(),
                dictionary_path_for(args.output).c_str());
  progress.finish(detail);
  return 0;
}

}  // namespace sp::cli
