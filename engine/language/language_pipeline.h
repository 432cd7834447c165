#pragma once
// The language workflow's steps as the CLI and the tests run them (docs/language.md):
// LangSplat-format inputs -> training views -> trained field -> per-view relevance by
// sparse splatting -> LERF post-processing -> heatmaps and masks.
#include <functional>
#include <string>
#include <vector>

#include "engine/core/camera.h"
#include "engine/core/image.h"
#include "engine/language/language_trainer.h"
#include "engine/language/relevance.h"

namespace sp {

// The targets of each camera from `features_dir` (<image stem>_f.npy / _s.npy) at the
// camera's size. BadInput naming the first missing file.
std::vector<LanguageView> load_language_views(const std::vector<Camera>& cameras, const std::string& features_dir);

// The language stage: a field trained on `model` (geometry and colour frozen; any extra
// channels it had are replaced) from the LangSplat features of `cameras` in `features_dir`.
// `model` comes back with the field's logits stored as its extra channels; the result holds
// the field (its dictionaries go to dictionary_path_for(ply)). `on_step(iteration, loss)`
// reports progress. BadInput for options out of range or missing feature files.
//
// Checkpoints (docs/language.md "Checkpoints and resume"): with a `path`, the trainer's state
// goes there atomically every `every` iterations (0: never on a schedule) and when SIGINT /
// SIGTERM arrives (engine/core/stop_signal.h: the stage then ends with Interrupted). `resume`
// "auto" continues from `path` when it exists (refusing one of another run: its fingerprint,
// language_fingerprint, must match), a file path continues from that file (a different
// iteration count allowed: the rate is constant, so extending a run is exact), "" starts
// fresh. A resumed run ends bit-identical to an uninterrupted one.
struct LanguageCheckpointing {
  std::string path;
  long every = 0;
  std::string resume;
};
struct LanguageStageResult {
  LanguageField field;
  float loss = 0;            // smoothed loss at the end
  long resumed_from = -1;    // the checkpoint's iteration, -1 for a fresh start
};
LanguageStageResult train_language_stage(GaussianModel& model, const std::vector<Camera>& cameras,
                                         const std::string& features_dir, const LanguageTrainOptions& options,
                                         const std::function<void(long, float)>& on_step = {},
                                         const LanguageCheckpointing& checkpointing = {});
// The PLY with the field and its dictionaries beside it (<stem>.language.npy), atomically.
void write_language_model(const std::string& ply_path, const GaussianModel& model, const LanguageField& field);

// Relevance of every query at every level for one camera: a CPU forward pass for the tile
// lists, then sparse splatting of the codes' projections (no decode, no L-channel image).
RelevanceMaps query_relevance(const GaussianModel& model, const LanguageField& field, const SparseCodes& codes,
                              const Camera& camera, const QueryEmbeddings& queries);

// A relevance map as an RGB heatmap (blue -> green -> red), min-max normalized if asked.
Image heatmap_image(const std::vector<float>& values, int width, int height, bool normalize);
Image mask_image(const std::vector<uint8_t>& mask, int width, int height);

// A file-name-safe form of a phrase ("red mug!" -> "red_mug").
std::string phrase_slug(const std::string& phrase);

}  // namespace sp
