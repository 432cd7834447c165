#pragma once
// Training of the language field on a frozen Gaussian model (docs/language.md): each
// iteration picks a view, renders the dense top-K codes of all levels as levels x L extra
// channels with the rasterizer, takes the cosine loss of each level against its segment
// features (language_loss.h), and back-propagates through the rasterizer's extra-channel
// gradients and the top-K softmax into the logits, and directly into the dictionaries; Adam
// updates both. Geometry and colour never change.
#include <cstdint>
#include <functional>
#include <vector>

#include "engine/core/camera.h"
#include "engine/language/feature_maps.h"
#include "engine/language/language_checkpoint.h"
#include "engine/language/language_field.h"
#include "engine/render/rasterizer.h"

namespace sp {

struct LanguageTrainOptions {
  long iterations = 10000;  // each iteration trains all levels on one view
  int codes = 64;           // L
  int top_k = 4;            // K
  float lr_logits = 0.0025f, lr_dictionary = 0.0025f;  // Adam (LangSplatV2's rate)
  float logit_init_std = 0.01f;
  int kmeans_iterations = 20;
  uint64_t seed = 0;
};

struct LanguageView {
  Camera camera;
  LanguageTargets targets;  // at the camera's size
};

// What a language checkpoint must agree on with the run continuing it: hashes of the frozen
// model and of the targets, the views' names and sizes, and every option that changes the
// result (the iteration count under key "iterations").
Fingerprint language_fingerprint(const GaussianModel& model, const std::vector<LanguageView>& views,
                                 const LanguageTrainOptions& options);

// k-means dictionaries over each level's segment features (the rows any pixel of that level
// refers to) and small random logits.
LanguageField initialize_language_field(size_t gaussians, const std::vector<LanguageView>& views,
                                        const LanguageTrainOptions& options);

class LanguageTrainer {
 public:
  LanguageTrainer(const GaussianModel& model, std::vector<LanguageView> views, LanguageField initial,
                  const LanguageTrainOptions& options, Rasterizer& rasterizer);
  // One iteration; returns the loss summed over levels.
  float step();
  void run(const std::function<void(long iteration, float loss)>& on_step = {});
  const LanguageField& field() const { return field_; }
  long iteration() const { return iteration_; }
  // The loss smoothed over steps (EMA 0.95); -1 before the first step.
  float loss_ema() const { return loss_ema_; }

  // Everything step() reads, and back: restoring a checkpoint of the same model, views and
  // options continues bit-exactly. restore() refuses (BadInput naming `where`) a field of
  // another shape or an order of another view count.
  LanguageCheckpoint checkpoint() const;
  void restore(LanguageCheckpoint checkpoint, const std::string& where);

  // The loss of the current field on view v (sum over levels) and, when asked, its gradients
  // (a test hook for finite differences).
  float loss_and_gradients(int view, std::vector<float>* grad_logits, std::vector<float>* grad_dictionary);

 private:
  const GaussianModel& model_;
  std::vector<LanguageView> views_;
  LanguageField field_;
  LanguageTrainOptions options_;
  Rasterizer& rasterizer_;
  long iteration_ = 0;
  std::vector<int> order_;
  size_t next_ = 0;
  uint64_t shuffle_state_ = 0;
  float loss_ema_ = -1;
  std::vector<float> m_logits_, v_logits_, m_dict_, v_dict_;
  Image grad_image_;
};

}  // namespace sp
