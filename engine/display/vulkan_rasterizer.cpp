// Rasterizer::forward over the headless splat pipeline (vulkan_rasterizer.h).
#include "engine/display/vulkan_rasterizer.h"

#include <limits>

#include "engine/core/error.h"
#include "engine/display/splat_renderer.h"

namespace sp {

namespace {

class VulkanRasterizer final : public Rasterizer {
 public:
  VulkanRasterizer(std::unique_ptr<VulkanDevice> owned, VulkanDevice& device)
      : owned_(std::move(owned)), renderer_(device) {}

  const char* name() const override { return "vulkan"; }

  RenderOutput forward(const Camera& camera, const GaussianParams& params, const RenderOptions& options) override {
    // The splat pipeline's own limit (a BadInput from set_params) is far below this one.
    check_render_inputs("Vulkan", camera, params, size_t(std::numeric_limits<uint32_t>::max()));
    // GaussianParams is a view of host arrays that the caller may rewrite in place between
    // calls (a trainer does, keeping the pointers): every call uploads them again, so a
    // forward never shows stale values. No change detection: comparing or hashing the
    // arrays would read as many bytes as the copy does. The device buffers are reused while
    // the count and the SH size stay the same.
    renderer_.set_params(params);
    SplatRender r = renderer_.render(camera, options, 1.0f, /*with_depth=*/true);
    RenderOutput out;
    out.color = std::move(r.color);
    out.alpha = std::move(r.alpha);
    out.depth = std::move(r.depth);
    return out;  // no extras, radii or state: forward only
  }

  void backward(const Camera&, const GaussianParams&, const RenderOptions&, const RenderOutput&,
                const OutputGradients&, GaussianGradients&) override {
    throw_internal("Vulkan rasterizer: backward is not implemented; the Vulkan renderer is forward-only "
                   "(train with the CPU or CUDA rasterizer)");
  }

 private:
  std::unique_ptr<VulkanDevice> owned_;  // null when the caller owns the device
  SplatRenderer renderer_;
};

}  // namespace

std::unique_ptr<Rasterizer> make_vulkan_rasterizer(std::string* why) {
  VulkanDeviceOptions options;
  std::string reason;
  std::unique_ptr<VulkanDevice> device = VulkanDevice::create(options, &reason);
  if (!device) {
    if (why) *why = reason.empty() ? "no Vulkan device" : reason;
    return nullptr;
  }
  VulkanDevice& d = *device;
  const std::string name = d.name();  // the device is gone if the constructor throws
  try {
    return std::make_unique<VulkanRasterizer>(std::move(device), d);
  } catch (const Error& e) {  // e.g. no float colour target that blends
    if (why) *why = "Vulkan device '" + name + "' cannot run the splat pipeline: " + e.what();
    return nullptr;
  }
}

std::unique_ptr<Rasterizer> make_vulkan_rasterizer(VulkanDevice& device) {
  return std::make_unique<VulkanRasterizer>(nullptr, device);
}

}  // namespace sp
