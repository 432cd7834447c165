#include "engine/pipeline/devices.h"

#include "engine/core/error.h"
#include "engine/core/log.h"
#include "engine/train/trainer.h"
#if SPARSPLAT_HAS_CUDA
#include "cuda/cuda_rasterizer.h"
#include "cuda/cuda_trainer.h"
#endif
#if SPARSPLAT_HAS_VULKAN
#include "engine/display/vulkan_rasterizer.h"
#endif

namespace sp {

std::string resolve_device(const std::string& requested, DeviceUse use, const std::string& command,
                           const std::string& blocker) {
  if (requested != "auto" && requested != "cpu" && requested != "cuda" && requested != "vulkan")
    throw_bad_input("--device", "expected auto, cpu, cuda or vulkan, got '" + requested + "'");
  if (requested == "cpu") {
    log_info(command + ": device cpu");
    return "cpu";
  }
  if (requested == "vulkan") {
    if (use == DeviceUse::Train)
      throw_bad_input("--device vulkan", "the Vulkan renderer draws only (no backward pass); " + command +
                                             " trains: use --device cpu, cuda or auto");
#if SPARSPLAT_HAS_VULKAN
    log_info(command + ": device vulkan");
    return "vulkan";
#else
    throw_bad_input("--device vulkan", "this binary was built without Vulkan (configure with SPARSPLAT_VULKAN=ON)");
#endif
  }
#if SPARSPLAT_HAS_CUDA
  std::string why;
  const bool present = cuda_device_available(&why);
  if (present && blocker.empty()) {
    log_info(command + ": device cuda (" + cuda_device_description() + ")");
    return "cuda";
  }
  const std::string reason =
      !present ? "no usable CUDA device (" + why + ")" : "the CUDA path does not implement " + blocker;
#else
  const std::string reason = "this binary was built without CUDA (configure with SPARSPLAT_CUDA=ON)";
#endif
  if (requested == "cuda") throw_bad_input("--device cuda", reason + "; use --device cpu or auto");
  log_info(command + ": device cpu (" + reason + ")");
  return "cpu";
}

std::unique_ptr<Rasterizer> make_rasterizer(const std::string& device) {
  if (device == "cpu") return make_cpu_rasterizer();
#if SPARSPLAT_HAS_CUDA
  if (device == "cuda") return make_cuda_rasterizer();
#endif
#if SPARSPLAT_HAS_VULKAN
  if (device == "vulkan") {
    std::string why;
    auto r = make_vulkan_rasterizer(&why);
    if (!r) throw_bad_input("--device vulkan", why + " (use --device cpu)");
    return r;
  }
#endif
  throw_internal("make_rasterizer: device '" + device + "' is not in this build");
}

std::string training_unsupported(const std::string& device, const TrainOptions& options) {
  if (device == "cpu") return {};
#if SPARSPLAT_HAS_CUDA
  if (device == "cuda") return cuda_trainer_unsupported(options);
#endif
  (void)options;
  return device == "vulkan" ? "training (the Vulkan renderer draws only)" : "training on '" + device + "'";
}

std::unique_ptr<TrainingBackend> make_training_backend(const std::string& device, const Dataset& dataset,
                                                       GaussianModel initial, const TrainOptions& options,
                                                       Rasterizer& rasterizer) {
  if (device == "cpu") return std::make_unique<Trainer>(dataset, std::move(initial), options, rasterizer);
#if SPARSPLAT_HAS_CUDA
  if (device == "cuda") return std::make_unique<CudaTrainer>(dataset, std::move(initial), options);
#endif
  throw_internal("make_training_backend: no training backend for device '" + device + "'");
}

}  // namespace sp
