#pragma once
// The Vulkan splat pipeline behind the Rasterizer contract (engine/render/rasterizer.h),
// forward half only: colour (over options.background), alpha and depth (Σ z α T), computed
// like the CPU reference (tests/display/test_vulkan_rasterizer.cpp: PSNR against
// make_cpu_rasterizer()). Not produced: extras (empty even when E > 0) and radii (empty);
// backward() throws sp::Error (internal): the Vulkan renderer is forward-only. Built on
// SplatRenderer (splat_renderer.h); pipeline in docs/viewer.md. No Vulkan types here.
#include <memory>
#include <string>

#include "engine/display/vulkan_device.h"
#include "engine/render/rasterizer.h"

namespace sp {

// A rasterizer on its own Vulkan device (the best one: discrete > integrated > CPU; lavapipe
// through VK_DRIVER_FILES). Null, with the reason in *why, when no Vulkan device can be
// created or the device cannot run the splat pipeline.
std::unique_ptr<Rasterizer> make_vulkan_rasterizer(std::string* why = nullptr);
// The same on a device the caller owns (e.g. with validation on); `device` must outlive it.
std::unique_ptr<Rasterizer> make_vulkan_rasterizer(VulkanDevice& device);

}  // namespace sp
