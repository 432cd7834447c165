// sparsplat language: trains the language field (sparse codes over per-level dictionaries)
// of a frozen Gaussian model from LangSplat-format features (docs/language.md).
#include <cstdio>
#include <filesystem>

#include "engine/core/error.h"
#include "engine/core/progress.h"
#include "engine/language/language_pipeline.h"
#include "engine/io/gaussian_ply.h"
#include "tools/sparsplat/commands.h"
#include "tools/sparsplat/common.h"

namespace sp::cli {

int run_language(const LanguageArgs& args) {
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

  LanguageTrainOptions o;
  o.iterations = args.iterations;
  o.codes = args.codes;
  o.top_k = args.top_k;
  o.lr_logits = args.lr;
  o.lr_dictionary = args.lr_dictionary;
  o.seed = args.seed;
  ProgressLine progress("language", o.iterations, 10.0);
  const LanguageStageResult r = train_language_stage(model, cameras, args.features, o, [&](long it, float loss) {
    char detail[64];
    std::snprintf(detail, sizeof detail, "loss %.4f", double(loss));
    progress.update(it, detail);
  });
  write_language_model(args.output, model, r.field);
  char detail[160];
  std::snprintf(detail, sizeof detail, "loss %.4f; wrote %s and %s", double(r.loss), args.output.c_str(),
                dictionary_path_for(args.output).c_str());
  progress.finish(detail);
  return 0;
}

}  // namespace sp::cli
