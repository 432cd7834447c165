#pragma once
// The backend registry: the one place that knows which rasterizers and training backends
// this build has (CPU always; CUDA with SPARSPLAT_CUDA; Vulkan, forward only, with
// SPARSPLAT_VULKAN). Every front door passes the user's --device through here
// (docs/cuda.md): auto = CUDA when built in, a device is present and the run needs nothing
// the CUDA path lacks; otherwise the CPU, with a log line saying why. An explicit choice
// that cannot be honoured is bad input (one line, exit 2), never a silent fallback.
#include <memory>
#include <string>

#include "engine/model/gaussian_model.h"
#include "engine/render/rasterizer.h"
#include "engine/scene/dataset.h"
#include "engine/train/training_backend.h"

namespace sp {

enum class DeviceUse {
  Render,  // forward passes only: cpu, cuda or vulkan
  Train,   // forward and backward: cpu or cuda
};

// "cpu", "cuda" or "vulkan" for a requested "auto" | "cpu" | "cuda" | "vulkan". `blocker`:
// "" or what this run needs that the CUDA path does not implement (e.g. "co-training").
// Logs the choice for `command`. BadInput for an unknown name or an unusable explicit one.
std::string resolve_device(const std::string& requested, DeviceUse use, const std::string& command,
                           const std::string& blocker = "");

// The rasterizer of a resolved device.
std::unique_ptr<Rasterizer> make_rasterizer(const std::string& device);

// "" when `device` can train with `options`; else the first thing it lacks, in words.
std::string training_unsupported(const std::string& device, const TrainOptions& options);

// The training backend of a resolved device. `rasterizer` (from make_rasterizer(device))
// must outlive it; the CUDA backend renders through its own device-resident rasterizer.
std::unique_ptr<TrainingBackend> make_training_backend(const std::string& device, const Dataset& dataset,
                                                       GaussianModel initial, const TrainOptions& options,
                                                       Rasterizer& rasterizer);

}  // namespace sp
