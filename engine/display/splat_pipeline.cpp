// The splat pipeline (splat_pipeline_vk.h); the frame is explained in docs/viewer.md.
#include "engine/display/splat_pipeline_vk.h"

#include <algorithm>
#include <cstring>

#include "engine/core/error.h"

namespace sp {

namespace {

// Push constants of project.comp and splat.vert (shaders/frame.glsl), 128 bytes.
struct FrameConstants {
  float rot_row[3][4];
  float trans_near[4];
  float center_scale[4];
  float focal[4];
  float limits[4];
  uint32_t info[4];
};
static_assert(sizeof(FrameConstants) == 128);

constexpr uint32_t kProjectGroup = 256;
constexpr VkDeviceSize kSplatRecordBytes = 64;

// The float target must blend; 32-bit float is exact enough for ≥ 40 dB, 16-bit is the fallback.
VkFormat pick_target_format(VkPhysicalDevice pd) {
  for (VkFormat f : {VK_FORMAT_R32G32B32A32_SFLOAT, VK_FORMAT_R16G16B16A16_SFLOAT}) {
    VkFormatProperties props;
    vkGetPhysicalDeviceFormatProperties(pd, f, &props);
    const VkFormatFeatureFlags need = VK_FORMAT_FEATURE_COLOR_ATTACHMENT_BIT |
                                      VK_FORMAT_FEATURE_COLOR_ATTACHMENT_BLEND_BIT |
                                      VK_FORMAT_FEATURE_SAMPLED_IMAGE_BIT | VK_FORMAT_FEATURE_TRANSFER_SRC_BIT;
    if ((props.optimalTilingFeatures & need) == need) return f;
  }
  throw_internal("Vulkan: the device cannot blend into a float colour target");
}

}  // namespace

void SplatTarget::reset() {
  if (!device) return;
  if (framebuffer) vkDestroyFramebuffer(device, framebuffer, nullptr);
  if (view) vkDestroyImageView(device, view, nullptr);
  if (image) vkDestroyImage(device, image, nullptr);
  if (memory) vkFreeMemory(device, memory, nullptr);
  framebuffer = VK_NULL_HANDLE;
  view = VK_NULL_HANDLE;
  image = VK_NULL_HANDLE;
  memory = VK_NULL_HANDLE;
  width = height = 0;
}

SplatPipeline::SplatPipeline(VulkanDevice::Impl& dev) : dev_(dev) {
  VkDevice d = dev.device;
  format_ = pick_target_format(dev.physical);
  // Bindings: means, log_scales, rotations, opacities, sh, splats, keys, values, counters.
  set_layout_ = make_storage_set_layout(d, 9, VK_SHADER_STAGE_COMPUTE_BIT | VK_SHADER_STAGE_VERTEX_BIT);
  pool_ = make_descriptor_sets(d, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 9, {&set_layout_, 1}, &set_);
  project_ = make_compute_pipeline(d, ShaderId::Project, set_layout_, sizeof(FrameConstants));
  sort_ = std::make_unique<RadixSort>(dev);

  // Render pass: one float colour attachment, cleared to (0, 0, 0, 0) = nothing drawn, T = 1.
  VkSubpassDependency deps[2]{};
  // The previous frame's reads of the target finish before this frame clears it.
  deps[0].srcSubpass = VK_SUBPASS_EXTERNAL;
  deps[0].dstSubpass = 0;
  deps[0].srcStageMask = VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_FRAGMENT_SHADER_BIT;
  deps[0].srcAccessMask = 0;
  deps[0].dstStageMask = VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT;
  deps[0].dstAccessMask = VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT | VK_ACCESS_COLOR_ATTACHMENT_READ_BIT;
  // Its writes are visible to the copy (headless) or the composite pass (viewer).
  deps[1].srcSubpass = 0;
  deps[1].dstSubpass = VK_SUBPASS_EXTERNAL;
  deps[1].srcStageMask = VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT;
  deps[1].srcAccessMask = VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT;
  deps[1].dstStageMask = VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_FRAGMENT_SHADER_BIT;
  deps[1].dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_SHADER_READ_BIT;
  // Final layout GENERAL: then copied (headless) or sampled (viewer).
  render_pass_ = make_color_render_pass(d, format_, VK_ATTACHMENT_LOAD_OP_CLEAR, VK_IMAGE_LAYOUT_GENERAL, deps, 2);

  // Graphics pipeline: instanced triangle-strip quads, premultiplied "under" blending.
  VkPushConstantRange range{VK_SHADER_STAGE_VERTEX_BIT, 0, sizeof(FrameConstants)};
  VkPipelineLayoutCreateInfo li{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
  li.setLayoutCount = 1;
  li.pSetLayouts = &set_layout_;
  li.pushConstantRangeCount = 1;
  li.pPushConstantRanges = &range;
  SP_VK(vkCreatePipelineLayout(d, &li, nullptr, &draw_layout_));
  VkPipelineColorBlendAttachmentState blend{};
  blend.blendEnable = VK_TRUE;
  blend.srcColorBlendFactor = VK_BLEND_FACTOR_ONE_MINUS_DST_ALPHA;  // × T so far
  blend.dstColorBlendFactor = VK_BLEND_FACTOR_ONE;
  blend.colorBlendOp = VK_BLEND_OP_ADD;
  blend.srcAlphaBlendFactor = VK_BLEND_FACTOR_ONE_MINUS_DST_ALPHA;
  blend.dstAlphaBlendFactor = VK_BLEND_FACTOR_ONE;
  blend.alphaBlendOp = VK_BLEND_OP_ADD;
  blend.colorWriteMask = VK_COLOR_COMPONENT_R_BIT | VK_COLOR_COMPONENT_G_BIT | VK_COLOR_COMPONENT_B_BIT |
                         VK_COLOR_COMPONENT_A_BIT;
  draw_ = make_graphics_pipeline(d, draw_layout_, render_pass_, ShaderId::SplatVert, ShaderId::SplatFrag, VK_PRIMITIVE_TOPOLOGY_TRIANGLE_STRIP, blend);
  readback_ = make_buffer(dev, 16, VK_BUFFER_USAGE_TRANSFER_DST_BIT, true);
  uint32_t qn = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(dev.physical, &qn, nullptr);
  std::vector<VkQueueFamilyProperties> qf(qn);
  vkGetPhysicalDeviceQueueFamilyProperties(dev.physical, &qn, qf.data());
  if (dev.queue_family < qn && qf[dev.queue_family].timestampValidBits > 0) {
    VkQueryPoolCreateInfo qi{VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO};
    qi.queryType = VK_QUERY_TYPE_TIMESTAMP;
    qi.queryCount = 4;
    SP_VK(vkCreateQueryPool(d, &qi, nullptr, &timestamps_));
  }
}

SplatPipeline::~SplatPipeline() {
  VkDevice d = dev_.device;
  vkDeviceWaitIdle(d);
  sort_.reset();
  if (timestamps_) vkDestroyQueryPool(d, timestamps_, nullptr);
  if (draw_) vkDestroyPipeline(d, draw_, nullptr);
  if (draw_layout_) vkDestroyPipelineLayout(d, draw_layout_, nullptr);
  if (render_pass_) vkDestroyRenderPass(d, render_pass_, nullptr);
  destroy_pipeline(d, project_);
  if (pool_) vkDestroyDescriptorPool(d, pool_, nullptr);
  if (set_layout_) vkDestroyDescriptorSetLayout(d, set_layout_, nullptr);
}

void SplatPipeline::set_model(const GaussianModel& model) {
  const size_t n = model.size();
  const uint64_t max_count = uint64_t(std::min<uint32_t>(dev_.properties.limits.maxComputeWorkGroupCount[0], 1u << 20)) *
                             kProjectGroup;
  if (n > max_count)
    throw_bad_input("model", std::to_string(n) + " Gaussians; the Vulkan renderer takes at most " +
                                 std::to_string(max_count));
  model.validate("model");
  vkDeviceWaitIdle(dev_.device);
  const VkBufferUsageFlags in = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  auto upload = [&](GpuBuffer& b, const std::vector<float>& v) {
    b = make_buffer(dev_, VkDeviceSize(v.size()) * 4, in, false);
    upload_buffer(dev_, b, v.data(), VkDeviceSize(v.size()) * 4);
  };
  upload(means_, model.means);
  upload(log_scales_, model.log_scales);
  upload(rotations_, model.rotations);
  upload(opacities_, model.opacities);
  upload(sh_, model.sh);
  const VkBufferUsageFlags work =
      VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  splats_ = make_buffer(dev_, VkDeviceSize(n) * kSplatRecordBytes, work, false);
  keys_ = make_buffer(dev_, VkDeviceSize(n) * 4, work, false);
  values_ = make_buffer(dev_, VkDeviceSize(n) * 4, work, false);
  counters_ = make_buffer(dev_, 64, work | VK_BUFFER_USAGE_INDIRECT_BUFFER_BIT, false);
  write_storage_buffers(dev_.device, set_,
                        {&means_, &log_scales_, &rotations_, &opacities_, &sh_, &splats_, &keys_, &values_, &counters_});
  sort_->bind(keys_, values_, counters_, uint32_t(n));
  count_ = n;
  sh_degree_ = model.sh_degree;
  sh_coeffs_ = model.sh_coeffs();
}

void SplatPipeline::make_target(SplatTarget& t, int width, int height) {
  t.reset();
  t.device = dev_.device;
  make_image_2d(dev_, width, height, format_,
                VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT, t.image,
                t.memory, t.view);
  VkFramebufferCreateInfo fi{VK_STRUCTURE_TYPE_FRAMEBUFFER_CREATE_INFO};
  fi.renderPass = render_pass_;
  fi.attachmentCount = 1;
  fi.pAttachments = &t.view;
  fi.width = uint32_t(width);
  fi.height = uint32_t(height);
  fi.layers = 1;
  SP_VK(vkCreateFramebuffer(dev_.device, &fi, nullptr, &t.framebuffer));
  t.width = width;
  t.height = height;
}

void SplatPipeline::record(VkCommandBuffer cmd, const SplatTarget& target, const Camera& camera,
                           const SplatSettings& settings) {
  if (camera.width != target.width || camera.height != target.height)
    throw_internal("SplatPipeline: the camera and the target differ in size");
  FrameConstants fc{};
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) fc.rot_row[r][c] = camera.R[c][r];
    fc.trans_near[r] = camera.t[r];
  }
  fc.trans_near[3] = settings.near_plane;
  const glm::vec3 center = -(glm::transpose(camera.R) * camera.t);  // as projection_camera() computes it
  for (int c = 0; c < 3; ++c) fc.center_scale[c] = center[c];
  fc.center_scale[3] = settings.splat_scale;
  fc.focal[0] = camera.fx;
  fc.focal[1] = camera.fy;
  fc.focal[2] = camera.cx;
  fc.focal[3] = camera.cy;
  fc.limits[0] = 1.3f * 0.5f * float(camera.width) / camera.fx;
  fc.limits[1] = 1.3f * 0.5f * float(camera.height) / camera.fy;
  fc.limits[2] = float(camera.width);
  fc.limits[3] = float(camera.height);
  fc.info[0] = uint32_t(count_);
  fc.info[1] = uint32_t(sh_coeffs_);
  fc.info[2] = uint32_t(std::clamp(settings.sh_degree, 0, sh_degree_));

  // The previous frame's readers of the work buffers are done before they are rewritten.
  buffer_barrier(cmd,
                 VK_PIPELINE_STAGE_DRAW_INDIRECT_BIT | VK_PIPELINE_STAGE_VERTEX_SHADER_BIT |
                     VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                 0, VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0);
  if (timestamps_) {
    vkCmdResetQueryPool(cmd, timestamps_, 0, 4);
    vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, timestamps_, 0);
  }
  vkCmdFillBuffer(cmd, counters_.buffer, 0, VK_WHOLE_SIZE, 0);
  buffer_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                 VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
  vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, project_.pipeline);
  vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, project_.layout, 0, 1, &set_, 0, nullptr);
  vkCmdPushConstants(cmd, project_.layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof fc, &fc);
  vkCmdDispatch(cmd, uint32_t((count_ + kProjectGroup - 1) / kProjectGroup), 1, 1);
  buffer_barrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                 VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
  if (timestamps_) vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, timestamps_, 1);
  sort_->record_prepare(cmd);
  sort_->record_sort(cmd);
  if (timestamps_) vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, timestamps_, 2);

  VkClearValue clear{};
  VkRenderPassBeginInfo rb{VK_STRUCTURE_TYPE_RENDER_PASS_BEGIN_INFO};
  rb.renderPass = render_pass_;
  rb.framebuffer = target.framebuffer;
  rb.renderArea = {{0, 0}, {uint32_t(target.width), uint32_t(target.height)}};
  rb.clearValueCount = 1;
  rb.pClearValues = &clear;
  vkCmdBeginRenderPass(cmd, &rb, VK_SUBPASS_CONTENTS_INLINE);
  VkViewport viewport{0, 0, float(target.width), float(target.height), 0, 1};
  VkRect2D scissor{{0, 0}, {uint32_t(target.width), uint32_t(target.height)}};
  vkCmdSetViewport(cmd, 0, 1, &viewport);
  vkCmdSetScissor(cmd, 0, 1, &scissor);
  vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, draw_);
  vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, draw_layout_, 0, 1, &set_, 0, nullptr);
  vkCmdPushConstants(cmd, draw_layout_, VK_SHADER_STAGE_VERTEX_BIT, 0, sizeof fc, &fc);
  vkCmdDrawIndirect(cmd, counters_.buffer, 16, 1, 16);  // counters[4..7]
  vkCmdEndRenderPass(cmd);
  if (timestamps_) vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT, timestamps_, 3);
}

SplatPipeline::StageTimes SplatPipeline::stage_times() {
  StageTimes t;
  if (!timestamps_) return t;
  uint64_t ts[4] = {};
  const VkResult r = vkGetQueryPoolResults(dev_.device, timestamps_, 0, 4, sizeof ts, ts, sizeof(uint64_t),
                                           VK_QUERY_RESULT_64_BIT);
  if (r != VK_SUCCESS) return t;  // VK_NOT_READY: no finished frame yet
  const double ms = double(dev_.properties.limits.timestampPeriod) * 1e-6;
  t.project_ms = double(ts[1] - ts[0]) * ms;
  t.sort_ms = double(ts[2] - ts[1]) * ms;
  t.draw_ms = double(ts[3] - ts[2]) * ms;
  return t;
}

uint32_t SplatPipeline::visible_count() {
  dev_.submit_and_wait([&](VkCommandBuffer cmd) {
    buffer_barrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                   VK_ACCESS_TRANSFER_READ_BIT);
    VkBufferCopy region{0, 0, 4};
    vkCmdCopyBuffer(cmd, counters_.buffer, readback_.buffer, 1, &region);
  });
  uint32_t n = 0;
  std::memcpy(&n, readback_.mapped, 4);
  return n;
}

void SplatPipeline::record_count_copy(VkCommandBuffer cmd) {
  buffer_barrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                 VK_ACCESS_TRANSFER_READ_BIT);
  VkBufferCopy region{0, 0, 4};
  vkCmdCopyBuffer(cmd, counters_.buffer, readback_.buffer, 1, &region);
}

uint32_t SplatPipeline::copied_count() const {
  uint32_t n = 0;
  std::memcpy(&n, readback_.mapped, 4);
  return n;
}

}  // namespace sp
