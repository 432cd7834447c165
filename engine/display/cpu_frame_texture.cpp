// The CPU drawing path's image on the device (cpu_frame_texture_vk.h).
#include <cstring>

#include "engine/display/cpu_frame_texture_vk.h"

namespace sp {

// The image rests in GENERAL (what the composite pass's descriptor names) and is in
// TRANSFER_DST_OPTIMAL only for the copy (image_barrier, vulkan_device_vk.h).
namespace {
constexpr VkFormat kFormat = VK_FORMAT_R8G8B8A8_UNORM;  // what CpuFrameRenderer writes
}  // namespace

void CpuFrameTexture::resize(int width, int height) {
  image_.reset();
  staging_.reset();
  image_.device = dev_.device;
  image_.width = width;
  image_.height = height;
  make_image_2d(dev_, width, height, kFormat,
                VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT, image_.image, image_.memory, image_.view);
  const VkDeviceSize bytes = VkDeviceSize(width) * VkDeviceSize(height) * 4;
  staging_ = make_buffer(dev_, bytes, VK_BUFFER_USAGE_TRANSFER_SRC_BIT, true);
  std::memset(staging_.mapped, 0, size_t(bytes));
  // Defined contents from the start: a frame that samples the image before the first upload
  // shows the background.
  dev_.submit_and_wait([&](VkCommandBuffer cmd) {
    image_barrier(cmd, image_.image, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, 0, VK_IMAGE_LAYOUT_UNDEFINED,
                  VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL);
    VkClearColorValue zero{};
    VkImageSubresourceRange range{VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1};
    vkCmdClearColorImage(cmd, image_.image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, &zero, 1, &range);
    image_barrier(cmd, image_.image, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                  VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, VK_PIPELINE_STAGE_FRAGMENT_SHADER_BIT, VK_ACCESS_SHADER_READ_BIT,
                  VK_IMAGE_LAYOUT_GENERAL);
  });
}

void CpuFrameTexture::record_upload(VkCommandBuffer cmd) const {
  // The old contents are replaced whole: no need to keep them through the transition.
  image_barrier(cmd, image_.image, VK_PIPELINE_STAGE_FRAGMENT_SHADER_BIT, VK_ACCESS_SHADER_READ_BIT,
                VK_IMAGE_LAYOUT_UNDEFINED, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL);
  VkBufferImageCopy region{};
  region.imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1};
  region.imageExtent = {uint32_t(image_.width), uint32_t(image_.height), 1};
  vkCmdCopyBufferToImage(cmd, staging_.buffer, image_.image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &region);
  image_barrier(cmd, image_.image, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, VK_PIPELINE_STAGE_FRAGMENT_SHADER_BIT, VK_ACCESS_SHADER_READ_BIT,
                VK_IMAGE_LAYOUT_GENERAL);
}

}  // namespace sp
