#include "engine/language/language_pipeline.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <optional>

#include "engine/core/error.h"
#include "engine/core/log.h"
#include "engine/core/stop_signal.h"
#include "engine/io/gaussian_ply.h"
#include "engine/render/tile_rasterizer_cpu.h"
#include "engine/train/trainer.h"  // check_fingerprint

namespace sp {

LanguageStageResult train_language_stage(GaussianModel& model, const std::vector<Camera>& cameras,
                                         const std::string& features_dir, const LanguageTrainOptions& o,
                                         const std::function<void(long, float)>& on_step,
                                         const LanguageCheckpointing& ck) {
  if (o.iterations < 1) throw_bad_input("language iterations", "must be at least 1");
  if (o.codes < 1 || o.codes > 4096) throw_bad_input("language codes", "must lie in [1, 4096]");
  if (o.top_k < 1 || o.top_k > o.codes || o.top_k > 256) throw_bad_input("language top-k", "must lie in [1, min(codes, 256)]");
  if (!(o.lr_logits > 0) || !(o.lr_dictionary > 0)) throw_bad_input("language learning rates", "must be positive");
  if (!std::filesystem::is_directory(features_dir))
    throw_bad_input(features_dir, "language feature folder not found (LangSplat's language_features/)");
  if (cameras.empty()) throw_bad_input(features_dir, "no views to train the language field on");
  if (ck.every < 0) throw_bad_input("language checkpoint interval", "must not be negative");
  if (ck.resume == "auto" && ck.path.empty()) throw_bad_input("--resume auto", "needs a checkpoint path");
  std::string resume = ck.resume == "auto" ? (std::filesystem::is_regular_file(ck.path) ? ck.path : "") : ck.resume;
  if (!resume.empty() && !std::filesystem::is_regular_file(resume)) throw_bad_input(resume, "no such checkpoint file");
  if (ck.resume == "auto" && resume.empty()) log_info("language: resume auto: no " + ck.path + ", starting fresh");
  std::vector<LanguageView> views = load_language_views(cameras, features_dir);
  log_info("language: " + std::to_string(views.size()) + " views, " + std::to_string(model.size()) + " Gaussians, " +
           std::to_string(views.front().targets.dims) + "-d features");
  // The model's own extra channels (if any) are replaced by the language logits.
  model.extra_channels = 0;
  model.extras.clear();
  const Fingerprint fingerprint = language_fingerprint(model, views, o);
  auto rasterizer = make_cpu_rasterizer();
  std::optional<LanguageCheckpoint> saved;
  if (!resume.empty()) {
    // Another run's file is refused from its header, before the arrays are read.
    check_fingerprint(resume, read_language_checkpoint_fingerprint(resume), fingerprint,
                      ck.resume == "auto" ? TargetChange::Refuse : TargetChange::Allow);
    saved = read_language_checkpoint(resume);
  }
  // Resuming skips the k-means start: the checkpoint's field replaces it.
  LanguageField initial = saved ? saved->field : initialize_language_field(model.size(), views, o);
  LanguageTrainer trainer(model, std::move(views), std::move(initial), o, *rasterizer);
  LanguageStageResult result;
  if (saved) {
    trainer.restore(std::move(*saved), resume);
    result.resumed_from = trainer.iteration();
    log_info("language: resumed from " + resume + " at iteration " + std::to_string(trainer.iteration()));
  }
  const auto save = [&] {
    if (ck.path.empty()) return false;
    LanguageCheckpoint c = trainer.checkpoint();
    c.fingerprint = fingerprint;
    write_language_checkpoint(ck.path, c);
    return true;
  };
  while (trainer.iteration() < o.iterations) {
    if (const int sig = stop_signal()) {
      const bool wrote = save();
      throw Interrupted(sig, "interrupted by " + signal_name(sig) + " at language iteration " +
                                 std::to_string(trainer.iteration()) + " of " + std::to_string(o.iterations) +
                                 (wrote ? ": checkpoint " + ck.path + " (continue with --resume auto)" : ": nothing saved"));
    }
    trainer.step();
    if (on_step) on_step(trainer.iteration(), trainer.loss_ema());
    if (ck.every > 0 && trainer.iteration() % ck.every == 0 && trainer.iteration() < o.iterations) save();
  }
  store_language_field(model, trainer.field());
  result.field = trainer.field();
  result.loss = trainer.loss_ema();
  return result;
}

void write_language_model(const std::string& ply_path, const GaussianModel& model, const LanguageField& field) {
  const std::filesystem::path out(ply_path);
  if (out.has_parent_path()) std::filesystem::create_directories(out.parent_path());
  write_gaussian_ply(ply_path, model);
  write_dictionary(dictionary_path_for(ply_path), field);
}

std::vector<LanguageView> load_language_views(const std::vector<Camera>& cameras, const std::string& dir) {
  std::vector<LanguageView> views;
  views.reserve(cameras.size());
  for (const Camera& c : cameras) views.push_back({c, load_language_targets(dir, c.name, c.width, c.height)});
  return views;
}

RelevanceMaps query_relevance(const GaussianModel& model, const LanguageField& field, const SparseCodes& codes,
                              const Camera& camera, const QueryEmbeddings& queries) {
  TileRasterizerT<float> tiles;
  TileRenderT<float> plain;
  RenderOptions ro;
  ro.sh_degree = 0;  // colour is not used; the tile lists and α do not depend on it
  GaussianParams p = params_of(model);
  p.extra_channels = 0;
  p.extras = nullptr;
  tiles.forward(camera, p, ro, plain);
  const std::vector<float> proj = splat_sparse_projections(plain.state, codes, relevance_projection(field, queries));
  return relevance_from_projections(proj, camera.width, camera.height, field, queries);
}

Image heatmap_image(const std::vector<float>& values, int W, int H, bool normalize) {
  float lo = 0.0f, hi = 1.0f;
  if (normalize && !values.empty()) {
    const auto [a, b] = std::minmax_element(values.begin(), values.end());
    lo = *a;
    hi = std::max(*b, *a + 1e-9f);
  }
  Image img(W, H, 3);
  for (size_t i = 0; i < values.size(); ++i) {
    const float t = std::clamp((values[i] - lo) / (hi - lo), 0.0f, 1.0f);
    // Piecewise-linear blue -> green -> red.
    const float r = std::clamp(2.0f * t - 0.5f, 0.0f, 1.0f);
    const float g = std::clamp(2.0f - std::abs(4.0f * t - 2.0f), 0.0f, 1.0f);
    const float b = std::clamp(1.5f - 2.0f * t, 0.0f, 1.0f);
    img.pixels[i * 3] = r;
    img.pixels[i * 3 + 1] = g;
    img.pixels[i * 3 + 2] = b;
  }
  return img;
}

Image mask_image(const std::vector<uint8_t>& mask, int W, int H) {
  Image img(W, H, 1);
  for (size_t i = 0; i < mask.size(); ++i) img.pixels[i] = mask[i] ? 1.0f : 0.0f;
  return img;
}

std::string phrase_slug(const std::string& phrase) {
  std::string s;
  for (unsigned char c : phrase) {
    if (std::isalnum(c)) s += char(std::tolower(c));
    else if (!s.empty() && s.back() != '_') s += '_';
  }
  while (!s.empty() && s.back() == '_') s.pop_back();
  return s.empty() ? "query" : s;
}

}  // namespace sp
