#pragma once
// A Vulkan instance + device + queue for the display module (headless renderer, viewer,
// GPU sort). No Vulkan types here: the objects live behind a pointer (vulkan_device_vk.h
// has them for display's own sources and the viewer). Pipeline: docs/viewer.md.
//
// Device choice: discrete GPU > integrated > virtual > CPU (lavapipe); the loader honours
// VK_DRIVER_FILES, so VK_DRIVER_FILES=/usr/share/vulkan/icd.d/lvp_icd.x86_64.json forces
// Mesa's CPU driver.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sp {

struct VulkanDeviceOptions {
  // Enables VK_LAYER_KHRONOS_validation and counts what it reports (tests assert zero).
  bool validation = false;
  // Instance extensions a window system needs (GLFW's list for the viewer).
  std::vector<std::string> instance_extensions;
};

class VulkanDevice {
 public:
  struct Impl;
  // Null (with the reason in *why) when there is no Vulkan driver or no usable device,
  // so callers can fall back or tests can skip. Other failures throw sp::Error.
  static std::unique_ptr<VulkanDevice> create(const VulkanDeviceOptions& options, std::string* why);
  explicit VulkanDevice(std::unique_ptr<Impl> impl);
  ~VulkanDevice();
  VulkanDevice(const VulkanDevice&) = delete;
  VulkanDevice& operator=(const VulkanDevice&) = delete;

  std::string name() const;       // e.g. "llvmpipe (LLVM 15.0.6, 256 bits)"
  bool is_cpu() const;            // a CPU implementation (lavapipe)
  bool validation_enabled() const;
  // Warnings and errors the validation layer reported since creation, and their text.
  uint64_t validation_messages() const;
  std::vector<std::string> validation_log() const;
  void wait_idle();

  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace sp
