#pragma once
// recon's sparse-view regularizer flags -> TrainOptions (docs/sparse_view.md "Regularizers").
#include <string>

#include "engine/train/trainer.h"
#include "tools/sparsplat/commands.h"

namespace sp::cli {

// Applies the preset for `train_views` (unless --regularizers off), then each explicit flag.
// Returns a one-line summary of what is on, for the log and metrics.json.
std::string apply_regularizer_args(const RegularizerArgs& args, int train_views, TrainOptions& options);

}  // namespace sp::cli
