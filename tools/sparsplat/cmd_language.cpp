// sparsplat language: trains the language field (sparse codes over per-level dictionaries)
// of a frozen Gaussian model from LangSplat-format features (docs/language.md).
#include <cstdio>
#include <filesystem>

#include "engine/core/atomic_file.h"
#include "engine/core/error.h"
#include "engine/core/output_lock.h"
#include "engine/core/stop_signal.h"
#include "engine/core/progress.h"
#include "engine/language/language_pipeline.h"
#include "engine/io/gaussian_ply.h"
#include "tools/sparsplat/commands.h"
#include "tools/sparsplat/common.h"

namespace sp::cli {

namespace {
// Beside the output: "<dir>/<stem>.language-checkpoint.bin".
std::string language_checkpoint_path(const std::string& output) {
  const std::filesystem::path p(output);
  return (p.parent_path() / (p.stem().string() + ".language-checkpoint.bin")).string();
}
}  // namespace

int run_language(const LanguageArgs& args) {
  if (args.split != "train" && args.split != "all") throw_bad_input("--split", "expected train or all");
  if (!args.resume.empty() && args.resume != "auto" && !std::filesystem::is_regular_file(args.resume))
    throw_bad_input(args.resume, "no such checkpoint file");
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
  // One run per output folder (engine/core/output_lock.h); Ctrl-C / kill checkpoint and end
  // with Interrupted (main.cpp: exit 128 + signal).
  const std::filesystem::path folder = std::filesystem::path(args.output).parent_path();
  const std::string dir = folder.empty() ? "." : folder.string();
  const OutputLock lock(dir);
  const std::string stem = std::filesystem::path(args.output).stem().string();
  remove_stale_temporaries(dir, stem + ".");  // a killed run's half-written PLY, dictionary or checkpoint
  install_stop_signal_handlers();
  LanguageCheckpointing ck;
  ck.path = language_checkpoint_path(args.output);
  ck.every = args.checkpoint_every;
  ck.resume = args.resume;
  ProgressLine progress("language", o.iterations, 10.0);
  const LanguageStageResult r = train_language_stage(
      model, cameras, args.features, o,
      [&](long it, float loss) {
        char detail[64];
        std::snprintf(detail, sizeof detail, "loss %.4f", double(loss));
        progress.update(it, detail);
      },
      ck);
  write_language_model(args.output, model, r.field);
  // The outputs are the finished state; a rerun with --resume auto then starts afresh.
  std::error_code ignored;
  std::filesystem::remove(ck.path, ignored);
  char detail[160];
  std::snprintf(detail, sizeof detail, "loss %.4f; wrote %s and %s", double(r.loss), args.output.c_str(),
                dictionary_path_for(args.output).c_str());
  progress.finish(detail);
  return 0;
}

}  // namespace sp::cli
