#pragma once
// Display-internal: the composite pass (composite.vert/.frag) that puts the splat target
// over the background and the query heatmap on top. The viewer draws it into its swapchain
// pass; composite_on_device (heatmap_overlay.h) into an offscreen image for the tests.
#include "engine/display/heatmap_overlay.h"
#include "engine/display/vulkan_device_vk.h"

namespace sp {

// A 2D image sampled by shaders, with its own memory.
struct SampledImage {
  VkDevice device = VK_NULL_HANDLE;
  VkImage image = VK_NULL_HANDLE;
  VkDeviceMemory memory = VK_NULL_HANDLE;
  VkImageView view = VK_NULL_HANDLE;
  int width = 0, height = 0;
  SampledImage() = default;
  SampledImage(const SampledImage&) = delete;
  SampledImage& operator=(const SampledImage&) = delete;
  ~SampledImage() { reset(); }
  void reset();
};
// (Re)creates `image` and uploads `bytes` of tightly packed texels (waits); the image ends
// in `layout`, readable by fragment shaders.
void upload_sampled_image(VulkanDevice::Impl& dev, SampledImage& image, int width, int height, VkFormat format,
                          const void* data, size_t bytes, VkImageLayout layout);

class CompositePass {
 public:
  // `pass`: the render pass (one colour attachment) the composite is drawn in.
  CompositePass(VulkanDevice::Impl& dev, VkRenderPass pass);
  ~CompositePass();
  CompositePass(const CompositePass&) = delete;
  CompositePass& operator=(const CompositePass&) = delete;

  // The splat target to composite, in VK_IMAGE_LAYOUT_GENERAL. Not while a frame using the
  // pass is in flight (as for set_relevance).
  void set_splat_target(VkImageView view);
  // Uploads the relevance map (waits on the queue); an empty map leaves a 1x1 zero texture.
  void set_relevance(const RelevanceOverlay& relevance);
  // Records the full-screen triangle (viewport and scissor set by the caller).
  void record(VkCommandBuffer cmd, const glm::vec3& background, const HeatmapParams& heatmap) const;

 private:
  VulkanDevice::Impl& dev_;
  VkSampler sampler_ = VK_NULL_HANDLE;
  VkDescriptorSetLayout set_layout_ = VK_NULL_HANDLE;
  VkDescriptorPool pool_ = VK_NULL_HANDLE;
  VkDescriptorSet set_ = VK_NULL_HANDLE;
  VkPipelineLayout layout_ = VK_NULL_HANDLE;
  VkPipeline pipeline_ = VK_NULL_HANDLE;
  SampledImage relevance_;
};

}  // namespace sp
