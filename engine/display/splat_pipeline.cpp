// The splat pipeline (splat_pipeline_vk.h); the frame is explained in docs/viewer.md.
#include "engine/display/splat_pipeline_vk.h"

#include <algorithm>
#include <cstring>

#include "engine/core/error.h"
#include "engine/render/project.h"
#include "engine/render/sh.h"

namespace sp {

// Push constants of project.comp and splat.vert (shaders/frame.glsl), 128 bytes.
struct SplatPipeline::FrameConstants {
  float rot_row[3][4];
  float trans_near[4];
  float center_scale[4];
  float focal[4];
  float limits[4];
  uint32_t info[4];
};

namespace {

constexpr uint32_t kProjectGroup = 256;
constexpr VkDeviceSize kSplatRecordBytes = 64;
constexpr uint32_t kBindings = 10;  // means, log_scales, rotations, opacities, sh, splats, keys, values, counters, probe
// frame.info.w (shaders/splat_probe.glsl)
constexpr uint32_t kProbeBit = 1, kDepthBit = 2;
static_assert(sizeof(SplatProbe) == 112, "splat_probe.glsl's ProbeRecord");

int stored_sh_degree(int coeffs) {
  int d = 0;
  while (d < 3 && sh_coeff_count(d + 1) <= coeffs) ++d;
  return d;
}

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
  set_layout_ = make_storage_set_layout(d, kBindings, VK_SHADER_STAGE_COMPUTE_BIT | VK_SHADER_STAGE_VERTEX_BIT);
  pool_ = make_descriptor_sets(d, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, kBindings, {&set_layout_, 1}, &set_);
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
  model.validate("model");
  set_params(params_of(model));
}

void SplatPipeline::set_params(const GaussianParams& p) {
  const size_t n = p.count;
  const uint64_t max_count = uint64_t(std::min<uint32_t>(dev_.properties.limits.maxComputeWorkGroupCount[0], 1u << 20)) *
                             kProjectGroup;
  if (n > max_count)
    throw_bad_input("model", std::to_string(n) + " Gaussians; the Vulkan renderer takes at most " +
                                 std::to_string(max_count));
  if (p.sh_coeffs < 1) throw_internal("SplatPipeline: sh_coeffs must be at least 1");
  if (n > 0 && !(p.means && p.log_scales && p.rotations && p.opacities && p.sh))
    throw_internal("SplatPipeline: Gaussian parameter arrays missing");
  vkDeviceWaitIdle(dev_.device);
  const bool same_shape = splats_ && n == count_ && p.sh_coeffs == sh_coeffs_;
  const VkBufferUsageFlags in = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  auto upload = [&](GpuBuffer& b, const float* v, size_t floats) {
    if (!same_shape) b = make_buffer(dev_, VkDeviceSize(floats) * 4, in, false);
    upload_buffer(dev_, b, v, VkDeviceSize(floats) * 4);
  };
  upload(means_, p.means, n * 3);
  upload(log_scales_, p.log_scales, n * 3);
  upload(rotations_, p.rotations, n * 4);
  upload(opacities_, p.opacities, n);
  upload(sh_, p.sh, n * size_t(p.sh_coeffs) * 3);
  count_ = n;
  sh_coeffs_ = p.sh_coeffs;
  sh_degree_ = stored_sh_degree(p.sh_coeffs);
  if (same_shape) return;  // the work buffers and descriptors stay
  const VkBufferUsageFlags work =
      VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  splats_ = make_buffer(dev_, VkDeviceSize(n) * kSplatRecordBytes, work, false);
  keys_ = make_buffer(dev_, VkDeviceSize(n) * 4, work, false);
  values_ = make_buffer(dev_, VkDeviceSize(n) * 4, work, false);
  counters_ = make_buffer(dev_, 64, work | VK_BUFFER_USAGE_INDIRECT_BUFFER_BIT, false);
  probe_ = make_buffer(dev_, sizeof(SplatProbe), work, false);  // never written unless probing
  write_storage_buffers(dev_.device, set_, {&means_, &log_scales_, &rotations_, &opacities_, &sh_, &splats_, &keys_,
                                            &values_, &counters_, &probe_});
  sort_->bind(keys_, values_, counters_, uint32_t(n));
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

SplatPipeline::FrameConstants SplatPipeline::frame_constants(const Camera& camera, const SplatSettings& settings,
                                                             uint32_t flags) const {
  // The camera as project.h sees it (one definition of the centre and the 1.3 tan(fov/2) clamp).
  const ProjectionCameraT<float> pc = projection_camera<float>(camera, settings.near_plane);
  static_assert(sizeof(FrameConstants) == 128);
  FrameConstants fc{};
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) fc.rot_row[r][c] = pc.R[c][r];
    fc.trans_near[r] = pc.t[r];
  }
  fc.trans_near[3] = pc.near_plane;
  for (int c = 0; c < 3; ++c) fc.center_scale[c] = pc.center[c];
  fc.center_scale[3] = settings.splat_scale;
  fc.focal[0] = pc.fx;
  fc.focal[1] = pc.fy;
  fc.focal[2] = pc.cx;
  fc.focal[3] = pc.cy;
  fc.limits[0] = pc.lim_x;
  fc.limits[1] = pc.lim_y;
  fc.limits[2] = float(camera.width);
  fc.limits[3] = float(camera.height);
  fc.info[0] = uint32_t(count_);
  fc.info[1] = uint32_t(sh_coeffs_);
  fc.info[2] = uint32_t(std::clamp(settings.sh_degree, 0, sh_degree_));
  fc.info[3] = flags;
  return fc;
}

void SplatPipeline::record_project(VkCommandBuffer cmd, const FrameConstants& fc) {
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
  // At least one group: with the probe on, invocation 0 writes the constants record.
  vkCmdDispatch(cmd, uint32_t(std::max<size_t>((count_ + kProjectGroup - 1) / kProjectGroup, 1)), 1, 1);
  buffer_barrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                 VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
  if (timestamps_) vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, timestamps_, 1);
}

void SplatPipeline::record_draw(VkCommandBuffer cmd, const SplatTarget& target, const FrameConstants& fc) {
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
}

void SplatPipeline::record(VkCommandBuffer cmd, const SplatTarget& target, const Camera& camera,
                           const SplatSettings& settings) {
  if (camera.width != target.width || camera.height != target.height)
    throw_internal("SplatPipeline: the camera and the target differ in size");
  const FrameConstants fc = frame_constants(camera, settings, 0);
  record_project(cmd, fc);
  sort_->record_prepare(cmd);
  sort_->record_sort(cmd);
  if (timestamps_) vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, timestamps_, 2);
  record_draw(cmd, target, fc);
  if (timestamps_) vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT, timestamps_, 3);
}

void SplatPipeline::record_depth(VkCommandBuffer cmd, const SplatTarget& target, const Camera& camera,
                                 const SplatSettings& settings) {
  if (camera.width != target.width || camera.height != target.height)
    throw_internal("SplatPipeline: the camera and the depth target differ in size");
  record_draw(cmd, target, frame_constants(camera, settings, kDepthBit));
}

std::vector<SplatProbe> SplatPipeline::probe(const Camera& camera, const SplatSettings& settings,
                                             SplatProbeConstants* constants) {
  const VkDeviceSize bytes = VkDeviceSize(count_ + 1) * sizeof(SplatProbe);
  vkDeviceWaitIdle(dev_.device);
  GpuBuffer placeholder = std::move(probe_);
  probe_ = make_buffer(dev_, bytes, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT, false);
  auto bind = [&] {
    write_storage_buffers(dev_.device, set_, {&means_, &log_scales_, &rotations_, &opacities_, &sh_, &splats_, &keys_,
                                              &values_, &counters_, &probe_});
  };
  bind();
  const FrameConstants fc = frame_constants(camera, settings, kProbeBit);
  dev_.submit_and_wait([&](VkCommandBuffer cmd) { record_project(cmd, fc); });
  std::vector<SplatProbe> all(count_ + 1);
  download_buffer(dev_, probe_, all.data(), bytes);
  probe_ = std::move(placeholder);
  bind();
  if (constants) {
    const SplatProbe& c = all[0];
    constants->tile_size = c.status;
    constants->cull_margin = c.mean[0];
    constants->min_alpha_reciprocal = c.mean[1];
    constants->min_alpha = c.depth;
    constants->max_alpha = c.q_max;
    constants->far_exponent = c.cov[0];
    constants->covariance_blur = c.cov[1];
    constants->lim_x = c.cov[2];
    constants->lim_y = c.opacity;
  }
  all.erase(all.begin());
  return all;
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
