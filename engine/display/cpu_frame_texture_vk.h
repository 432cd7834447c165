#pragma once
// Display-internal: where the viewer's CPU drawing path (cpu_frame_renderer.h) puts its
// frames on the device. A window-sized RGBA8 image, kept in VK_IMAGE_LAYOUT_GENERAL, that the
// composite pass samples in place of the Vulkan splat target (rgb already over the
// background, alpha 1), so the heatmap and the ImGui panel draw on top exactly as on the
// Vulkan path; and a mapped staging buffer the CPU writes and a frame's command buffer copies
// from. Nothing is uploaded for frames that keep the last picture.
#include <cstdint>

#include "engine/display/composite_pass_vk.h"  // SampledImage
#include "engine/display/vulkan_device_vk.h"

namespace sp {

class CpuFrameTexture {
 public:
  explicit CpuFrameTexture(VulkanDevice::Impl& dev) : dev_(dev) {}
  CpuFrameTexture(const CpuFrameTexture&) = delete;
  CpuFrameTexture& operator=(const CpuFrameTexture&) = delete;

  // (Re)creates the image (cleared to transparent black) and the staging buffer; waits on the
  // queue, so call it between frames.
  void resize(int width, int height);
  int width() const { return image_.width; }
  int height() const { return image_.height; }
  // The staging memory: 4 * width * height bytes, RGBA, rows top to bottom. Write it only
  // while no frame that copies from it is in flight.
  uint8_t* pixels() { return static_cast<uint8_t*>(staging_.mapped); }
  // Records the copy staging -> image, ordered after earlier fragment-shader reads of the
  // image and before this command buffer's.
  void record_upload(VkCommandBuffer cmd) const;
  VkImageView view() const { return image_.view; }

 private:
  VulkanDevice::Impl& dev_;
  SampledImage image_;
  GpuBuffer staging_;
};

}  // namespace sp
