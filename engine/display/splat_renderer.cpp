// Headless rendering through the splat pipeline: offscreen float target → host buffer →
// background composited here (C = Σ c α T + T bg, as the CPU rasterizer does). The depth
// output is a second draw of the same sorted splats into a second target, with depth as the
// colour (SplatPipeline::record_depth).
#include "engine/display/splat_renderer.h"

#include <chrono>
#include <cmath>
#include <cstring>

#include "engine/core/error.h"
#include "engine/display/splat_pipeline_vk.h"

namespace sp {

namespace {

// RGBA of a target copied to a host buffer, as floats.
std::vector<float> read_rgba(const GpuBuffer& readback, size_t pixels, bool half) {
  std::vector<float> rgba(pixels * 4);
  if (half) {
    const uint16_t* h = static_cast<const uint16_t*>(readback.mapped);
    for (size_t i = 0; i < pixels * 4; ++i) {  // IEEE half → float (finite values only are written)
      const uint32_t s = (h[i] >> 15) & 1u, e = (h[i] >> 10) & 31u, f = h[i] & 1023u;
      float v = e == 0 ? float(f) * (1.0f / 16777216.0f) : std::ldexp(float(f | 1024u), int(e) - 25);
      rgba[i] = s ? -v : v;
    }
  } else {
    std::memcpy(rgba.data(), readback.mapped, pixels * 16);
  }
  return rgba;
}

// Records the copy of `target` (in GENERAL, the render pass's final layout) into `readback`.
void record_readback(VkCommandBuffer cmd, const SplatTarget& target, const GpuBuffer& readback) {
  image_barrier(cmd, target.image, VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT, VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT,
                VK_IMAGE_LAYOUT_GENERAL, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_READ_BIT,
                VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL);
  VkBufferImageCopy region{};
  region.imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1};
  region.imageExtent = {uint32_t(target.width), uint32_t(target.height), 1};
  vkCmdCopyImageToBuffer(cmd, target.image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, readback.buffer, 1, &region);
}

SplatSettings settings_of(const RenderOptions& options, float splat_scale) {
  SplatSettings settings;
  settings.sh_degree = options.sh_degree;
  settings.near_plane = options.near_plane;
  settings.splat_scale = splat_scale;
  return settings;
}

}  // namespace

struct SplatRenderer::Impl {
  explicit Impl(VulkanDevice::Impl& d) : dev(d), pipeline(d) {}
  VulkanDevice::Impl& dev;
  SplatPipeline pipeline;
  SplatTarget target, depth_target;
  GpuBuffer readback, depth_readback;
};

SplatRenderer::SplatRenderer(VulkanDevice& device) : impl_(std::make_unique<Impl>(device.impl())) {}
SplatRenderer::~SplatRenderer() = default;

void SplatRenderer::set_model(const GaussianModel& model) { impl_->pipeline.set_model(model); }
void SplatRenderer::set_params(const GaussianParams& params) { impl_->pipeline.set_params(params); }

SplatRender SplatRenderer::render(const Camera& camera, const RenderOptions& options, float splat_scale,
                                  bool with_depth) {
  if (camera.width <= 0 || camera.height <= 0 || camera.width > 16384 || camera.height > 16384)
    throw_bad_input("camera " + camera.name, "image size " + std::to_string(camera.width) + "x" +
                                                 std::to_string(camera.height) + " is outside 1..16384");
  Impl& m = *impl_;
  const int W = camera.width, H = camera.height;
  const bool half = m.pipeline.target_format() == VK_FORMAT_R16G16B16A16_SFLOAT;
  const VkDeviceSize bytes = VkDeviceSize(W) * H * (half ? 8 : 16);
  if (m.target.width != W || m.target.height != H) {
    m.pipeline.make_target(m.target, W, H);
    m.readback = make_buffer(m.dev, bytes, VK_BUFFER_USAGE_TRANSFER_DST_BIT, true);
  }
  if (with_depth && (m.depth_target.width != W || m.depth_target.height != H)) {
    m.pipeline.make_target(m.depth_target, W, H);
    m.depth_readback = make_buffer(m.dev, bytes, VK_BUFFER_USAGE_TRANSFER_DST_BIT, true);
  }
  const SplatSettings settings = settings_of(options, splat_scale);
  const auto t0 = std::chrono::steady_clock::now();
  m.dev.submit_and_wait([&](VkCommandBuffer cmd) {
    m.pipeline.record(cmd, m.target, camera, settings);
    if (with_depth) m.pipeline.record_depth(cmd, m.depth_target, camera, settings);
    record_readback(cmd, m.target, m.readback);
    if (with_depth) record_readback(cmd, m.depth_target, m.depth_readback);
    buffer_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_HOST_BIT,
                   VK_ACCESS_HOST_READ_BIT);
  });
  SplatRender out;
  out.gpu_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  out.visible = m.pipeline.visible_count();
  const SplatPipeline::StageTimes st = m.pipeline.stage_times();
  out.project_ms = st.project_ms;
  out.sort_ms = st.sort_ms;
  out.draw_ms = st.draw_ms;
  out.color = Image(W, H, 3);
  out.alpha = Image(W, H, 1);
  const size_t P = size_t(W) * H;
  const std::vector<float> rgba = read_rgba(m.readback, P, half);
  const glm::vec3 bg = options.background;
  for (size_t p = 0; p < P; ++p) {
    const float t = 1.0f - rgba[p * 4 + 3];
    for (int c = 0; c < 3; ++c) out.color.pixels[p * 3 + c] = rgba[p * 4 + c] + t * bg[c];
    out.alpha.pixels[p] = rgba[p * 4 + 3];
  }
  if (with_depth) {
    const std::vector<float> zrgba = read_rgba(m.depth_readback, P, half);
    out.depth = Image(W, H, 1);
    for (size_t p = 0; p < P; ++p) out.depth.pixels[p] = zrgba[p * 4];
  }
  return out;
}

std::vector<SplatProbe> SplatRenderer::probe(const Camera& camera, const RenderOptions& options,
                                             SplatProbeConstants* constants) {
  return impl_->pipeline.probe(camera, settings_of(options, 1.0f), constants);
}

}  // namespace sp
