// The composite pass (composite.frag + heatmap.glsl) and its CPU reference.
#include <algorithm>
#include <cstring>

#include <glm/glm.hpp>

#include "engine/core/error.h"
#include "engine/display/composite_pass_vk.h"

namespace sp {

void SampledImage::reset() {
  if (!device) return;
  if (view) vkDestroyImageView(device, view, nullptr);
  if (image) vkDestroyImage(device, image, nullptr);
  if (memory) vkFreeMemory(device, memory, nullptr);
  view = VK_NULL_HANDLE;
  image = VK_NULL_HANDLE;
  memory = VK_NULL_HANDLE;
  width = height = 0;
}

void upload_sampled_image(VulkanDevice::Impl& dev, SampledImage& img, int width, int height, VkFormat format,
                          const void* data, size_t bytes, VkImageLayout layout) {
  img.reset();
  img.device = dev.device;
  img.width = width;
  img.height = height;
  make_image_2d(dev, width, height, format, VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT, img.image,
                img.memory, img.view);

  GpuBuffer staging = make_buffer(dev, std::max<VkDeviceSize>(bytes, 4), VK_BUFFER_USAGE_TRANSFER_SRC_BIT, true);
  std::memcpy(staging.mapped, data, bytes);
  dev.submit_and_wait([&](VkCommandBuffer cmd) {
    image_barrier(cmd, img.image, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, 0, VK_IMAGE_LAYOUT_UNDEFINED,
                  VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL);
    VkBufferImageCopy region{};
    region.imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1};
    region.imageExtent = {uint32_t(width), uint32_t(height), 1};
    vkCmdCopyBufferToImage(cmd, staging.buffer, img.image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &region);
    image_barrier(cmd, img.image, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                  VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, VK_PIPELINE_STAGE_FRAGMENT_SHADER_BIT, VK_ACCESS_SHADER_READ_BIT,
                  layout);
  });
}

namespace {
struct CompositePush {
  float background[4];
  float heatmap[4];  // opacity, threshold, enabled, unused
};
}  // namespace

CompositePass::CompositePass(VulkanDevice::Impl& dev, VkRenderPass pass) : dev_(dev) {
  VkDevice d = dev.device;
  VkSamplerCreateInfo smp{VK_STRUCTURE_TYPE_SAMPLER_CREATE_INFO};
  smp.magFilter = VK_FILTER_NEAREST;
  smp.minFilter = VK_FILTER_NEAREST;
  smp.addressModeU = smp.addressModeV = smp.addressModeW = VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE;
  SP_VK(vkCreateSampler(d, &smp, nullptr, &sampler_));
  VkDescriptorSetLayoutBinding b[2] = {
      {0, VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, 1, VK_SHADER_STAGE_FRAGMENT_BIT, nullptr},
      {1, VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, 1, VK_SHADER_STAGE_FRAGMENT_BIT, nullptr}};
  VkDescriptorSetLayoutCreateInfo li{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
  li.bindingCount = 2;
  li.pBindings = b;
  SP_VK(vkCreateDescriptorSetLayout(d, &li, nullptr, &set_layout_));
  pool_ = make_descriptor_sets(d, VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, 2, {&set_layout_, 1}, &set_);
  VkPushConstantRange range{VK_SHADER_STAGE_FRAGMENT_BIT, 0, sizeof(CompositePush)};
  VkPipelineLayoutCreateInfo pl{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
  pl.setLayoutCount = 1;
  pl.pSetLayouts = &set_layout_;
  pl.pushConstantRangeCount = 1;
  pl.pPushConstantRanges = &range;
  SP_VK(vkCreatePipelineLayout(d, &pl, nullptr, &layout_));
  VkPipelineColorBlendAttachmentState blend{};
  blend.colorWriteMask =
      VK_COLOR_COMPONENT_R_BIT | VK_COLOR_COMPONENT_G_BIT | VK_COLOR_COMPONENT_B_BIT | VK_COLOR_COMPONENT_A_BIT;
  pipeline_ = make_graphics_pipeline(d, layout_, pass, ShaderId::CompositeVert, ShaderId::CompositeFrag,
                                     VK_PRIMITIVE_TOPOLOGY_TRIANGLE_LIST, blend);
  set_relevance({});  // binding 1 always holds a valid image
}

CompositePass::~CompositePass() {
  VkDevice d = dev_.device;
  relevance_.reset();
  if (pipeline_) vkDestroyPipeline(d, pipeline_, nullptr);
  if (layout_) vkDestroyPipelineLayout(d, layout_, nullptr);
  if (pool_) vkDestroyDescriptorPool(d, pool_, nullptr);
  if (set_layout_) vkDestroyDescriptorSetLayout(d, set_layout_, nullptr);
  if (sampler_) vkDestroySampler(d, sampler_, nullptr);
}

void CompositePass::set_splat_target(VkImageView view) {
  VkDescriptorImageInfo ii{sampler_, view, VK_IMAGE_LAYOUT_GENERAL};
  VkWriteDescriptorSet w{VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
  w.dstSet = set_;
  w.dstBinding = 0;
  w.descriptorCount = 1;
  w.descriptorType = VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER;
  w.pImageInfo = &ii;
  vkUpdateDescriptorSets(dev_.device, 1, &w, 0, nullptr);
}

void CompositePass::set_relevance(const RelevanceOverlay& r) {
  const bool empty = r.width <= 0 || r.height <= 0 || r.values.size() != size_t(r.width) * size_t(r.height);
  const float zero = 0.0f;
  if (empty)
    upload_sampled_image(dev_, relevance_, 1, 1, VK_FORMAT_R32_SFLOAT, &zero, sizeof zero,
                         VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL);
  else
    upload_sampled_image(dev_, relevance_, r.width, r.height, VK_FORMAT_R32_SFLOAT, r.values.data(),
                         r.values.size() * sizeof(float), VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL);
  VkDescriptorImageInfo ii{sampler_, relevance_.view, VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL};
  VkWriteDescriptorSet w{VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
  w.dstSet = set_;
  w.dstBinding = 1;
  w.descriptorCount = 1;
  w.descriptorType = VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER;
  w.pImageInfo = &ii;
  vkUpdateDescriptorSets(dev_.device, 1, &w, 0, nullptr);
}

void CompositePass::record(VkCommandBuffer cmd, const glm::vec3& background, const HeatmapParams& heatmap) const {
  const CompositePush push = {{background.x, background.y, background.z, 1.0f},
                              {heatmap.opacity, heatmap.threshold, heatmap.enabled ? 1.0f : 0.0f, 0.0f}};
  vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, pipeline_);
  vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, layout_, 0, 1, &set_, 0, nullptr);
  vkCmdPushConstants(cmd, layout_, VK_SHADER_STAGE_FRAGMENT_BIT, 0, sizeof push, &push);
  vkCmdDraw(cmd, 3, 1, 0, 0);
}

// --- CPU reference and the headless run (heatmap_overlay.h) ---

glm::vec3 heatmap_ramp(float t) {
  return glm::vec3(std::clamp(2.0f * t - 0.5f, 0.0f, 1.0f), std::clamp(2.0f - std::abs(4.0f * t - 2.0f), 0.0f, 1.0f),
                   std::clamp(1.5f - 2.0f * t, 0.0f, 1.0f));
}

Image composite_heatmap(const Image& target, const glm::vec3& bg, const RelevanceOverlay& r, const HeatmapParams& p) {
  if (target.channels != 4) throw_internal("composite_heatmap: the splat target has 4 channels");
  const int W = target.width, H = target.height;
  const bool overlay = p.enabled && r.width > 0 && r.height > 0 && r.values.size() == size_t(r.width) * r.height;
  Image out(W, H, 3);
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x) {
      const float* s = &target.pixels[(size_t(y) * W + x) * 4];
      glm::vec3 c = glm::vec3(s[0], s[1], s[2]) + (1.0f - s[3]) * bg;
      if (p.enabled) {
        c = glm::clamp(c, 0.0f, 1.0f);
        // The shader samples a 1x1 zero texture when no map is set.
        const float v = overlay ? r.values[size_t(heatmap_texel(y, H, r.height)) * r.width + heatmap_texel(x, W, r.width)]
                                : 0.0f;
        const float a = v > p.threshold ? p.opacity * v : 0.0f;
        c = c + a * (heatmap_ramp(v) - c);
      }
      for (int k = 0; k < 3; ++k) out.pixels[(size_t(y) * W + x) * 3 + k] = std::clamp(c[k], 0.0f, 1.0f);
    }
  return out;
}

Image composite_on_device(VulkanDevice& device, const Image& target, const glm::vec3& background,
                          const RelevanceOverlay& relevance, const HeatmapParams& params) {
  if (target.channels != 4) throw_internal("composite_on_device: the splat target has 4 channels");
  VulkanDevice::Impl& dev = device.impl();
  VkDevice d = dev.device;
  const int W = target.width, H = target.height;
  const VkFormat format = VK_FORMAT_R8G8B8A8_UNORM;  // what a UNORM swapchain stores
  VkSubpassDependency dep{};  // the copy after the pass reads what it wrote
  dep.srcSubpass = 0;
  dep.dstSubpass = VK_SUBPASS_EXTERNAL;
  dep.srcStageMask = VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT;
  dep.dstStageMask = VK_PIPELINE_STAGE_TRANSFER_BIT;
  dep.srcAccessMask = VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT;
  dep.dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT;
  const VkRenderPass pass =
      make_color_render_pass(d, format, VK_ATTACHMENT_LOAD_OP_DONT_CARE, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, &dep, 1);

  VkImage image = VK_NULL_HANDLE;
  VkDeviceMemory memory = VK_NULL_HANDLE;
  VkImageView view = VK_NULL_HANDLE;
  VkFramebuffer fb = VK_NULL_HANDLE;
  Image out(W, H, 3);
  {
    CompositePass composite(dev, pass);
    SampledImage input;
    upload_sampled_image(dev, input, W, H, VK_FORMAT_R32G32B32A32_SFLOAT, target.pixels.data(),
                         target.pixels.size() * sizeof(float), VK_IMAGE_LAYOUT_GENERAL);
    composite.set_splat_target(input.view);
    composite.set_relevance(relevance);

    make_image_2d(dev, W, H, format, VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT, image, memory,
                  view);
    VkFramebufferCreateInfo fi{VK_STRUCTURE_TYPE_FRAMEBUFFER_CREATE_INFO};
    fi.renderPass = pass;
    fi.attachmentCount = 1;
    fi.pAttachments = &view;
    fi.width = uint32_t(W);
    fi.height = uint32_t(H);
    fi.layers = 1;
    SP_VK(vkCreateFramebuffer(d, &fi, nullptr, &fb));
    GpuBuffer readback = make_buffer(dev, VkDeviceSize(W) * H * 4, VK_BUFFER_USAGE_TRANSFER_DST_BIT, true);

    dev.submit_and_wait([&](VkCommandBuffer cmd) {
      VkRenderPassBeginInfo rb{VK_STRUCTURE_TYPE_RENDER_PASS_BEGIN_INFO};
      rb.renderPass = pass;
      rb.framebuffer = fb;
      rb.renderArea = {{0, 0}, {uint32_t(W), uint32_t(H)}};
      vkCmdBeginRenderPass(cmd, &rb, VK_SUBPASS_CONTENTS_INLINE);
      VkViewport viewport{0, 0, float(W), float(H), 0, 1};
      VkRect2D scissor{{0, 0}, {uint32_t(W), uint32_t(H)}};
      vkCmdSetViewport(cmd, 0, 1, &viewport);
      vkCmdSetScissor(cmd, 0, 1, &scissor);
      composite.record(cmd, background, params);
      vkCmdEndRenderPass(cmd);
      VkBufferImageCopy region{};
      region.imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1};
      region.imageExtent = {uint32_t(W), uint32_t(H), 1};
      vkCmdCopyImageToBuffer(cmd, image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, readback.buffer, 1, &region);
      buffer_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_HOST_BIT,
                     VK_ACCESS_HOST_READ_BIT);
    });
    const uint8_t* px = static_cast<const uint8_t*>(readback.mapped);
    for (size_t p = 0; p < size_t(W) * H; ++p)
      for (int c = 0; c < 3; ++c) out.pixels[p * 3 + c] = float(px[p * 4 + c]) / 255.0f;
  }
  vkDestroyFramebuffer(d, fb, nullptr);
  vkDestroyImageView(d, view, nullptr);
  vkDestroyImage(d, image, nullptr);
  vkFreeMemory(d, memory, nullptr);
  vkDestroyRenderPass(d, pass, nullptr);
  return out;
}

}  // namespace sp
