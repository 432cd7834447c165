#pragma once
// recon --prior: drives the diffusion-prior refinement loop (engine/prior/refinement.h)
// from Trainer::run's per-step callback, and the optional final 2D pass over test renders.
// No torch here: the denoiser is reached through engine/prior/denoiser.h.
#include <memory>
#include <string>
#include <vector>

#include <glm/glm.hpp>

#include "engine/prior/refinement.h"
#include "engine/scene/dataset.h"
#include "engine/train/trainer.h"
#include "tools/sparsplat/commands.h"
#include "tools/sparsplat/common.h"

namespace sp::cli {

class PriorRefinementHook {
 public:
  // Loads the model (BadInput when the file is bad or the build has no libtorch).
  PriorRefinementHook(const PriorReconArgs& args, const Dataset& data, long iterations, glm::vec3 background,
                      uint64_t seed, const std::string& out_dir);
  ~PriorRefinementHook();
  // Call after every training step: runs a refinement round when one is due and hands the
  // refined pseudo views to the trainer.
  void after_step(Trainer& trainer);
  int rounds() const { return round_; }
  double seconds() const { return seconds_; }
  // The 2D pass: each test render refined at --prior-final-pass strength (nearest train photo as
  // reference), written to <out>/test_prior2d/renders and scored. Empty when the pass is off.
  Scores final_pass(Rasterizer& rasterizer, const GaussianModel& model, const RenderOptions& ro);

 private:
  const PriorReconArgs args_;
  const Dataset& data_;
  long iterations_;
  glm::vec3 background_;
  std::string out_dir_;
  prior::RefinementOptions options_;
  std::unique_ptr<prior::Denoiser> denoiser_;
  std::vector<Camera> train_cameras_;
  int round_ = 0;
  double seconds_ = 0;
};

}  // namespace sp::cli
