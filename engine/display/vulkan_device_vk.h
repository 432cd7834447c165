#pragma once
// Display-internal: the Vulkan objects behind VulkanDevice and the small pieces every
// display source needs (checked calls, buffers with their own memory, one-shot command
// submission, shader modules). Included only by engine/display/*.cpp and the viewer.
#include <vulkan/vulkan.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "engine/display/vulkan_device.h"

namespace sp {

// Throws sp::Error (internal) naming the call and the VkResult unless it is VK_SUCCESS.
void vk_check(VkResult result, const char* call);
#define SP_VK(call) ::sp::vk_check((call), #call)
const char* vk_result_name(VkResult result);

struct VulkanDevice::Impl {
  VkInstance instance = VK_NULL_HANDLE;
  VkDebugUtilsMessengerEXT messenger = VK_NULL_HANDLE;
  VkPhysicalDevice physical = VK_NULL_HANDLE;
  VkPhysicalDeviceProperties properties{};
  VkPhysicalDeviceMemoryProperties memory{};
  VkDevice device = VK_NULL_HANDLE;
  uint32_t queue_family = 0;
  VkQueue queue = VK_NULL_HANDLE;
  VkCommandPool command_pool = VK_NULL_HANDLE;  // for one-shot submissions
  VkSurfaceKHR surface = VK_NULL_HANDLE;       // viewer only
  bool validation = false;
  mutable std::mutex log_mutex;
  uint64_t messages = 0;
  std::vector<std::string> log;

  ~Impl();
  uint32_t memory_type(uint32_t type_bits, VkMemoryPropertyFlags wanted) const;
  // Records with `record` into a fresh command buffer, submits and waits.
  void submit_and_wait(const std::function<void(VkCommandBuffer)>& record);
};

// With a window surface (the viewer): `make_surface` is called right after the instance
// exists; the chosen queue family can present to it and VK_KHR_swapchain is enabled.
std::unique_ptr<VulkanDevice> create_vulkan_device(const VulkanDeviceOptions& options,
                                                   const std::function<VkSurfaceKHR(VkInstance)>& make_surface,
                                                   std::string* why);

// A buffer with its own memory allocation (a handful per renderer: no sub-allocator).
struct GpuBuffer {
  VkDevice device = VK_NULL_HANDLE;
  VkBuffer buffer = VK_NULL_HANDLE;
  VkDeviceMemory memory = VK_NULL_HANDLE;
  VkDeviceSize size = 0;
  void* mapped = nullptr;  // host-visible buffers stay mapped

  GpuBuffer() = default;
  GpuBuffer(const GpuBuffer&) = delete;
  GpuBuffer& operator=(const GpuBuffer&) = delete;
  GpuBuffer(GpuBuffer&& o) noexcept { *this = std::move(o); }
  GpuBuffer& operator=(GpuBuffer&& o) noexcept;
  ~GpuBuffer() { reset(); }
  void reset();
  explicit operator bool() const { return buffer != VK_NULL_HANDLE; }
};
// `host` = host-visible + coherent and mapped (staging, readback); else device-local.
GpuBuffer make_buffer(VulkanDevice::Impl& dev, VkDeviceSize size, VkBufferUsageFlags usage, bool host);
// Copies bytes into a device buffer through a staging buffer (waits).
void upload_buffer(VulkanDevice::Impl& dev, GpuBuffer& dst, const void* data, VkDeviceSize size);
void download_buffer(VulkanDevice::Impl& dev, const GpuBuffer& src, void* data, VkDeviceSize size);
// A device-local 2D colour image (one mip, one layer, optimal tiling, undefined layout)
// with its memory and a colour view; the caller owns and destroys all three.
void make_image_2d(VulkanDevice::Impl& dev, int width, int height, VkFormat format, VkImageUsageFlags usage,
                   VkImage& image, VkDeviceMemory& memory, VkImageView& view);

// SPIR-V of the shaders in shaders/ (embedded at build time by shaders/shaders.cmake).
enum class ShaderId { Project, PrepareIndirect, RadixHistogram, RadixScan, RadixScatter, SplatVert, SplatFrag,
                      CompositeVert, CompositeFrag };
std::span<const uint32_t> shader_spirv(ShaderId id);
VkShaderModule make_shader_module(VkDevice device, ShaderId id);

// A compute pipeline with its layout (one descriptor set, push constants of `push_bytes`).
struct ComputePipeline {
  VkPipeline pipeline = VK_NULL_HANDLE;
  VkPipelineLayout layout = VK_NULL_HANDLE;
};
ComputePipeline make_compute_pipeline(VkDevice device, ShaderId id, VkDescriptorSetLayout set_layout,
                                      uint32_t push_bytes);
void destroy_pipeline(VkDevice device, ComputePipeline& p);

// A render pass with one colour attachment (stored; undefined initial layout) and one
// subpass, its dependencies given by the caller: the splat target, the viewer's
// presentation pass and the headless composite differ only in load op, final layout and
// what waits on them.
VkRenderPass make_color_render_pass(VkDevice device, VkFormat format, VkAttachmentLoadOp load,
                                    VkImageLayout final_layout, const VkSubpassDependency* deps,
                                    uint32_t dep_count);

// A graphics pipeline without vertex buffers (the vertex shader builds its geometry from
// gl_VertexIndex/gl_InstanceIndex), one colour attachment blended by `blend`, dynamic
// viewport and scissor: the splat draw and the viewer's composite pass share it.
VkPipeline make_graphics_pipeline(VkDevice device, VkPipelineLayout layout, VkRenderPass pass, ShaderId vert,
                                  ShaderId frag, VkPrimitiveTopology topology,
                                  const VkPipelineColorBlendAttachmentState& blend);

// A descriptor pool holding exactly `layouts.size()` sets with `descriptors` descriptors of
// `type` in all, and those sets allocated into `sets` (the pool owns them).
VkDescriptorPool make_descriptor_sets(VkDevice device, VkDescriptorType type, uint32_t descriptors,
                                      std::span<const VkDescriptorSetLayout> layouts, VkDescriptorSet* sets);

// A descriptor set layout of `count` storage buffers at bindings 0..count-1.
VkDescriptorSetLayout make_storage_set_layout(VkDevice device, uint32_t count, VkShaderStageFlags stages);
void write_storage_buffers(VkDevice device, VkDescriptorSet set, const std::vector<const GpuBuffer*>& buffers);

// Memory barrier between passes (full buffers; enough for this pipeline's few passes).
void buffer_barrier(VkCommandBuffer cmd, VkPipelineStageFlags src_stage, VkAccessFlags src_access,
                    VkPipelineStageFlags dst_stage, VkAccessFlags dst_access);
// Layout transition of a whole single-mip colour image (with its memory dependency).
void image_barrier(VkCommandBuffer cmd, VkImage image, VkPipelineStageFlags src_stage, VkAccessFlags src_access,
                   VkImageLayout old_layout, VkPipelineStageFlags dst_stage, VkAccessFlags dst_access,
                   VkImageLayout new_layout);

}  // namespace sp
