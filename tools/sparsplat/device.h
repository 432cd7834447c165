#pragma once
// --device auto|cpu|cuda for the subcommands (docs/cuda.md). auto = CUDA when this binary
// was built with it, a device is present and the run uses nothing the CUDA path lacks;
// otherwise the CPU, with a log line saying why. An explicit `cuda` that cannot be honoured
// is bad input (one line, exit 2), never a silent fallback.
#include <memory>
#include <string>

#include "engine/render/rasterizer.h"

namespace sp::cli {

// "cpu" or "cuda". `blocker`: "" or what this run needs that the CUDA path does not
// implement (e.g. "co-training"). Logs the choice for `command`.
std::string resolve_device(const std::string& requested, const std::string& command, const std::string& blocker = "");

// The rasterizer of a resolved device ("cpu" or "cuda").
std::unique_ptr<Rasterizer> make_rasterizer_on(const std::string& device);

}  // namespace sp::cli
