#include "tools/sparsplat/device.h"

#include "engine/core/error.h"
#include "engine/core/log.h"
#if SPARSPLAT_HAS_CUDA
#include "cuda/cuda_rasterizer.h"
#endif

namespace sp::cli {

std::string resolve_device(const std::string& requested, const std::string& command, const std::string& blocker) {
  if (requested != "auto" && requested != "cpu" && requested != "cuda")
    throw_bad_input("--device", "expected auto, cpu or cuda, got '" + requested + "'");
  if (requested == "cpu") {
    log_info(command + ": device cpu");
    return "cpu";
  }
#if SPARSPLAT_HAS_CUDA
  std::string why;
  const bool present = cuda_device_available(&why);
  if (present && blocker.empty()) {
    log_info(command + ": device cuda (" + cuda_device_description() + ")");
    return "cuda";
  }
  const std::string reason = !present ? "no usable CUDA device (" + why + ")" : "the CUDA path does not implement " + blocker;
#else
  const std::string reason = "this binary was built without CUDA (configure with SPARSPLAT_CUDA=ON)";
#endif
  if (requested == "cuda") throw_bad_input("--device cuda", reason + "; use --device cpu or auto");
  log_info(command + ": device cpu (" + reason + ")");
  return "cpu";
}

std::unique_ptr<Rasterizer> make_rasterizer_on(const std::string& device) {
#if SPARSPLAT_HAS_CUDA
  if (device == "cuda") return make_cuda_rasterizer();
#endif
  if (device != "cpu") throw_internal("make_rasterizer_on: unknown device '" + device + "'");
  return make_cpu_rasterizer();
}

}  // namespace sp::cli
