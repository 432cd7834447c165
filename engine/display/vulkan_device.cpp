// Instance, device selection, validation message counting, buffers and the small helpers
// of vulkan_device_vk.h.
#include "engine/display/vulkan_device_vk.h"

#include <algorithm>
#include <cstring>

#include "engine/core/error.h"
#include "engine/core/log.h"

namespace sp {

const char* vk_result_name(VkResult r) {
  switch (r) {
    case VK_SUCCESS: return "VK_SUCCESS";
    case VK_NOT_READY: return "VK_NOT_READY";
    case VK_TIMEOUT: return "VK_TIMEOUT";
    case VK_SUBOPTIMAL_KHR: return "VK_SUBOPTIMAL_KHR";
    case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
    case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
    case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
    case VK_ERROR_MEMORY_MAP_FAILED: return "VK_ERROR_MEMORY_MAP_FAILED";
    case VK_ERROR_LAYER_NOT_PRESENT: return "VK_ERROR_LAYER_NOT_PRESENT";
    case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
    case VK_ERROR_FEATURE_NOT_PRESENT: return "VK_ERROR_FEATURE_NOT_PRESENT";
    case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER";
    case VK_ERROR_OUT_OF_DATE_KHR: return "VK_ERROR_OUT_OF_DATE_KHR";
    case VK_ERROR_SURFACE_LOST_KHR: return "VK_ERROR_SURFACE_LOST_KHR";
    default: return "VkResult error";
  }
}

void vk_check(VkResult result, const char* call) {
  if (result != VK_SUCCESS)
    throw_internal(std::string("Vulkan: ") + call + " failed: " + vk_result_name(result) + " (" +
                   std::to_string(int(result)) + ")");
}

namespace {

VKAPI_ATTR VkBool32 VKAPI_CALL on_validation_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                     VkDebugUtilsMessageTypeFlagsEXT,
                                                     const VkDebugUtilsMessengerCallbackDataEXT* data, void* user) {
  auto* impl = static_cast<VulkanDevice::Impl*>(user);
  if (severity >= VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT) {
    std::lock_guard<std::mutex> lock(impl->log_mutex);
    ++impl->messages;
    if (impl->log.size() < 64) impl->log.emplace_back(data && data->pMessage ? data->pMessage : "(no text)");
    log_warn(std::string("Vulkan validation: ") + (data && data->pMessage ? data->pMessage : ""));
  }
  return VK_FALSE;
}

bool has_layer(const char* name) {
  uint32_t n = 0;
  vkEnumerateInstanceLayerProperties(&n, nullptr);
  std::vector<VkLayerProperties> layers(n);
  vkEnumerateInstanceLayerProperties(&n, layers.data());
  return std::any_of(layers.begin(), layers.end(), [&](const VkLayerProperties& l) { return std::strcmp(l.layerName, name) == 0; });
}

int device_rank(VkPhysicalDeviceType type) {
  switch (type) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 4;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 3;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return 1;
    default: return 0;
  }
}

}  // namespace

VulkanDevice::Impl::~Impl() {
  if (device) {
    vkDeviceWaitIdle(device);
    if (command_pool) vkDestroyCommandPool(device, command_pool, nullptr);
    vkDestroyDevice(device, nullptr);
  }
  if (surface) vkDestroySurfaceKHR(instance, surface, nullptr);
  if (messenger) {
    auto destroy = reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(
        vkGetInstanceProcAddr(instance, "vkDestroyDebugUtilsMessengerEXT"));
    if (destroy) destroy(instance, messenger, nullptr);
  }
  if (instance) vkDestroyInstance(instance, nullptr);
}

uint32_t VulkanDevice::Impl::memory_type(uint32_t type_bits, VkMemoryPropertyFlags wanted) const {
  for (uint32_t i = 0; i < memory.memoryTypeCount; ++i)
    if ((type_bits & (1u << i)) && (memory.memoryTypes[i].propertyFlags & wanted) == wanted) return i;
  throw_internal("Vulkan: no memory type with the wanted properties");
}

void VulkanDevice::Impl::submit_and_wait(const std::function<void(VkCommandBuffer)>& record) {
  VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
  ai.commandPool = command_pool;
  ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  ai.commandBufferCount = 1;
  VkCommandBuffer cmd;
  SP_VK(vkAllocateCommandBuffers(device, &ai, &cmd));
  VkFence fence = VK_NULL_HANDLE;
  try {
    VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
    SP_VK(vkBeginCommandBuffer(cmd, &bi));
    record(cmd);
    SP_VK(vkEndCommandBuffer(cmd));
    VkFenceCreateInfo fi{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    SP_VK(vkCreateFence(device, &fi, nullptr, &fence));
    VkSubmitInfo si{VK_STRUCTURE_TYPE_SUBMIT_INFO};
    si.commandBufferCount = 1;
    si.pCommandBuffers = &cmd;
    SP_VK(vkQueueSubmit(queue, 1, &si, fence));
    SP_VK(vkWaitForFences(device, 1, &fence, VK_TRUE, UINT64_MAX));
  } catch (...) {
    if (fence) vkDestroyFence(device, fence, nullptr);
    vkFreeCommandBuffers(device, command_pool, 1, &cmd);
    throw;
  }
  vkDestroyFence(device, fence, nullptr);
  vkFreeCommandBuffers(device, command_pool, 1, &cmd);
}

std::unique_ptr<VulkanDevice> create_vulkan_device(const VulkanDeviceOptions& options,
                                                   const std::function<VkSurfaceKHR(VkInstance)>& make_surface,
                                                   std::string* why) {
  auto fail = [&](const std::string& reason) -> std::unique_ptr<VulkanDevice> {
    if (why) *why = reason;
    return nullptr;
  };
  auto impl = std::make_unique<VulkanDevice::Impl>();

  std::vector<const char*> extensions, layers;
  for (const std::string& e : options.instance_extensions) extensions.push_back(e.c_str());
  const bool validation = options.validation && has_layer("VK_LAYER_KHRONOS_validation");
  if (options.validation && !validation) log_warn("Vulkan: VK_LAYER_KHRONOS_validation is not installed");
  if (validation) {
    layers.push_back("VK_LAYER_KHRONOS_validation");
    extensions.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
  }
  VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
  app.pApplicationName = "sparsplat";
  app.pEngineName = "sparsplat";
  app.apiVersion = VK_API_VERSION_1_1;
  VkDebugUtilsMessengerCreateInfoEXT mi{VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT};
  mi.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
  mi.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                   VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
  mi.pfnUserCallback = on_validation_message;
  mi.pUserData = impl.get();
  // Synchronization validation too: missing barriers between the passes are the likely bug.
  VkValidationFeatureEnableEXT enables[] = {VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT};
  VkValidationFeaturesEXT features{VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT};
  features.enabledValidationFeatureCount = 1;
  features.pEnabledValidationFeatures = enables;
  features.pNext = &mi;
  VkInstanceCreateInfo ci{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
  ci.pApplicationInfo = &app;
  ci.enabledExtensionCount = uint32_t(extensions.size());
  ci.ppEnabledExtensionNames = extensions.data();
  ci.enabledLayerCount = uint32_t(layers.size());
  ci.ppEnabledLayerNames = layers.data();
  if (validation) ci.pNext = &features;
  const VkResult r = vkCreateInstance(&ci, nullptr, &impl->instance);
  if (r == VK_ERROR_INCOMPATIBLE_DRIVER || r == VK_ERROR_INITIALIZATION_FAILED || r == VK_ERROR_EXTENSION_NOT_PRESENT ||
      r == VK_ERROR_LAYER_NOT_PRESENT)
    return fail(std::string("no Vulkan driver (vkCreateInstance: ") + vk_result_name(r) + ")");
  SP_VK(r);
  impl->validation = validation;
  if (validation) {
    auto create = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
        vkGetInstanceProcAddr(impl->instance, "vkCreateDebugUtilsMessengerEXT"));
    if (!create) throw_internal("Vulkan: vkCreateDebugUtilsMessengerEXT is missing");
    SP_VK(create(impl->instance, &mi, nullptr, &impl->messenger));
  }
  if (make_surface) impl->surface = make_surface(impl->instance);

  // Device: the best kind with a graphics + compute queue (that presents, with a surface).
  uint32_t n = 0;
  vkEnumeratePhysicalDevices(impl->instance, &n, nullptr);
  std::vector<VkPhysicalDevice> devices(n);
  if (n) vkEnumeratePhysicalDevices(impl->instance, &n, devices.data());
  int best_rank = -1;
  for (VkPhysicalDevice pd : devices) {
    VkPhysicalDeviceProperties props;
    vkGetPhysicalDeviceProperties(pd, &props);
    if (props.apiVersion < VK_API_VERSION_1_1) continue;
    uint32_t qn = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &qn, nullptr);
    std::vector<VkQueueFamilyProperties> qf(qn);
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &qn, qf.data());
    for (uint32_t q = 0; q < qn; ++q) {
      const VkQueueFlags need = VK_QUEUE_GRAPHICS_BIT | VK_QUEUE_COMPUTE_BIT;
      if ((qf[q].queueFlags & need) != need) continue;
      if (impl->surface) {
        VkBool32 present = VK_FALSE;
        vkGetPhysicalDeviceSurfaceSupportKHR(pd, q, impl->surface, &present);
        if (!present) continue;
      }
      const int rank = device_rank(props.deviceType);
      if (rank > best_rank) {
        best_rank = rank;
        impl->physical = pd;
        impl->queue_family = q;
        impl->properties = props;
      }
      break;
    }
  }
  if (!impl->physical) return fail("no Vulkan 1.1 device with a graphics and compute queue");
  vkGetPhysicalDeviceMemoryProperties(impl->physical, &impl->memory);

  const float priority = 1.0f;
  VkDeviceQueueCreateInfo qi{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
  qi.queueFamilyIndex = impl->queue_family;
  qi.queueCount = 1;
  qi.pQueuePriorities = &priority;
  std::vector<const char*> device_extensions;
  if (impl->surface) device_extensions.push_back(VK_KHR_SWAPCHAIN_EXTENSION_NAME);
  VkDeviceCreateInfo di{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
  di.queueCreateInfoCount = 1;
  di.pQueueCreateInfos = &qi;
  di.enabledExtensionCount = uint32_t(device_extensions.size());
  di.ppEnabledExtensionNames = device_extensions.data();
  SP_VK(vkCreateDevice(impl->physical, &di, nullptr, &impl->device));
  vkGetDeviceQueue(impl->device, impl->queue_family, 0, &impl->queue);
  VkCommandPoolCreateInfo pi{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
  pi.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
  pi.queueFamilyIndex = impl->queue_family;
  SP_VK(vkCreateCommandPool(impl->device, &pi, nullptr, &impl->command_pool));
  log_debug(std::string("Vulkan device: ") + impl->properties.deviceName);
  return std::make_unique<VulkanDevice>(std::move(impl));
}

std::unique_ptr<VulkanDevice> VulkanDevice::create(const VulkanDeviceOptions& options, std::string* why) {
  return create_vulkan_device(options, nullptr, why);
}

VulkanDevice::VulkanDevice(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VulkanDevice::~VulkanDevice() = default;
std::string VulkanDevice::name() const { return impl_->properties.deviceName; }
bool VulkanDevice::is_cpu() const { return impl_->properties.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU; }
bool VulkanDevice::validation_enabled() const { return impl_->validation; }
uint64_t VulkanDevice::validation_messages() const {
  std::lock_guard<std::mutex> lock(impl_->log_mutex);
  return impl_->messages;
}
std::vector<std::string> VulkanDevice::validation_log() const {
  std::lock_guard<std::mutex> lock(impl_->log_mutex);
  return impl_->log;
}
void VulkanDevice::wait_idle() { SP_VK(vkDeviceWaitIdle(impl_->device)); }

// ---- buffers --------------------------------------------------------------------------

GpuBuffer& GpuBuffer::operator=(GpuBuffer&& o) noexcept {
  if (this != &o) {
    reset();
    device = o.device;
    buffer = o.buffer;
    memory = o.memory;
    size = o.size;
    mapped = o.mapped;
    o.buffer = VK_NULL_HANDLE;
    o.memory = VK_NULL_HANDLE;
    o.mapped = nullptr;
    o.size = 0;
  }
  return *this;
}

void GpuBuffer::reset() {
  if (!device) return;
  if (mapped) vkUnmapMemory(device, memory);
  if (buffer) vkDestroyBuffer(device, buffer, nullptr);
  if (memory) vkFreeMemory(device, memory, nullptr);
  buffer = VK_NULL_HANDLE;
  memory = VK_NULL_HANDLE;
  mapped = nullptr;
  size = 0;
}

VkRenderPass make_color_render_pass(VkDevice device, VkFormat format, VkAttachmentLoadOp load,
                                    VkImageLayout final_layout, const VkSubpassDependency* deps,
                                    uint32_t dep_count) {
  VkAttachmentDescription att{};
  att.format = format;
  att.samples = VK_SAMPLE_COUNT_1_BIT;
  att.loadOp = load;
  att.storeOp = VK_ATTACHMENT_STORE_OP_STORE;
  att.stencilLoadOp = VK_ATTACHMENT_LOAD_OP_DONT_CARE;
  att.stencilStoreOp = VK_ATTACHMENT_STORE_OP_DONT_CARE;
  att.initialLayout = VK_IMAGE_LAYOUT_UNDEFINED;
  att.finalLayout = final_layout;
  VkAttachmentReference ref{0, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL};
  VkSubpassDescription sub{};
  sub.pipelineBindPoint = VK_PIPELINE_BIND_POINT_GRAPHICS;
  sub.colorAttachmentCount = 1;
  sub.pColorAttachments = &ref;
  VkRenderPassCreateInfo rp{VK_STRUCTURE_TYPE_RENDER_PASS_CREATE_INFO};
  rp.attachmentCount = 1;
  rp.pAttachments = &att;
  rp.subpassCount = 1;
  rp.pSubpasses = &sub;
  rp.dependencyCount = dep_count;
  rp.pDependencies = deps;
  VkRenderPass pass = VK_NULL_HANDLE;
  SP_VK(vkCreateRenderPass(device, &rp, nullptr, &pass));
  return pass;
}

void make_image_2d(VulkanDevice::Impl& dev, int width, int height, VkFormat format, VkImageUsageFlags usage,
                   VkImage& image, VkDeviceMemory& memory, VkImageView& view) {
  VkImageCreateInfo ii{VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO};
  ii.imageType = VK_IMAGE_TYPE_2D;
  ii.format = format;
  ii.extent = {uint32_t(width), uint32_t(height), 1};
  ii.mipLevels = 1;
  ii.arrayLayers = 1;
  ii.samples = VK_SAMPLE_COUNT_1_BIT;
  ii.tiling = VK_IMAGE_TILING_OPTIMAL;
  ii.usage = usage;
  ii.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  ii.initialLayout = VK_IMAGE_LAYOUT_UNDEFINED;
  SP_VK(vkCreateImage(dev.device, &ii, nullptr, &image));
  VkMemoryRequirements req;
  vkGetImageMemoryRequirements(dev.device, image, &req);
  VkMemoryAllocateInfo ai{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
  ai.allocationSize = req.size;
  ai.memoryTypeIndex = dev.memory_type(req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
  SP_VK(vkAllocateMemory(dev.device, &ai, nullptr, &memory));
  SP_VK(vkBindImageMemory(dev.device, image, memory, 0));
  VkImageViewCreateInfo vi{VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO};
  vi.image = image;
  vi.viewType = VK_IMAGE_VIEW_TYPE_2D;
  vi.format = format;
  vi.subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1};
  SP_VK(vkCreateImageView(dev.device, &vi, nullptr, &view));
}

GpuBuffer make_buffer(VulkanDevice::Impl& dev, VkDeviceSize size, VkBufferUsageFlags usage, bool host) {
  GpuBuffer b;
  b.device = dev.device;
  b.size = std::max<VkDeviceSize>(size, 16);  // never an empty buffer
  VkBufferCreateInfo bi{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
  bi.size = b.size;
  bi.usage = usage;
  bi.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  SP_VK(vkCreateBuffer(dev.device, &bi, nullptr, &b.buffer));
  VkMemoryRequirements req;
  vkGetBufferMemoryRequirements(dev.device, b.buffer, &req);
  VkMemoryAllocateInfo ai{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
  ai.allocationSize = req.size;
  ai.memoryTypeIndex = dev.memory_type(req.memoryTypeBits, host ? VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                                                      VK_MEMORY_PROPERTY_HOST_COHERENT_BIT
                                                                : VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
  SP_VK(vkAllocateMemory(dev.device, &ai, nullptr, &b.memory));
  SP_VK(vkBindBufferMemory(dev.device, b.buffer, b.memory, 0));
  if (host) SP_VK(vkMapMemory(dev.device, b.memory, 0, VK_WHOLE_SIZE, 0, &b.mapped));
  return b;
}

void upload_buffer(VulkanDevice::Impl& dev, GpuBuffer& dst, const void* data, VkDeviceSize size) {
  if (size == 0) return;
  GpuBuffer staging = make_buffer(dev, size, VK_BUFFER_USAGE_TRANSFER_SRC_BIT, true);
  std::memcpy(staging.mapped, data, size_t(size));
  dev.submit_and_wait([&](VkCommandBuffer cmd) {
    VkBufferCopy region{0, 0, size};
    vkCmdCopyBuffer(cmd, staging.buffer, dst.buffer, 1, &region);
  });
}

void download_buffer(VulkanDevice::Impl& dev, const GpuBuffer& src, void* data, VkDeviceSize size) {
  if (size == 0) return;
  GpuBuffer staging = make_buffer(dev, size, VK_BUFFER_USAGE_TRANSFER_DST_BIT, true);
  dev.submit_and_wait([&](VkCommandBuffer cmd) {
    VkBufferCopy region{0, 0, size};
    vkCmdCopyBuffer(cmd, src.buffer, staging.buffer, 1, &region);
  });
  std::memcpy(data, staging.mapped, size_t(size));
}

// ---- pipelines and descriptors ------------------------------------------------------------

VkShaderModule make_shader_module(VkDevice device, ShaderId id) {
  const std::span<const uint32_t> code = shader_spirv(id);
  VkShaderModuleCreateInfo si{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
  si.codeSize = code.size_bytes();
  si.pCode = code.data();
  VkShaderModule m;
  SP_VK(vkCreateShaderModule(device, &si, nullptr, &m));
  return m;
}

VkDescriptorPool make_descriptor_sets(VkDevice device, VkDescriptorType type, uint32_t descriptors,
                                      std::span<const VkDescriptorSetLayout> layouts, VkDescriptorSet* sets) {
  VkDescriptorPoolSize size{type, descriptors};
  VkDescriptorPoolCreateInfo pi{VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
  pi.maxSets = uint32_t(layouts.size());
  pi.poolSizeCount = 1;
  pi.pPoolSizes = &size;
  VkDescriptorPool pool = VK_NULL_HANDLE;
  SP_VK(vkCreateDescriptorPool(device, &pi, nullptr, &pool));
  VkDescriptorSetAllocateInfo ai{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO};
  ai.descriptorPool = pool;
  ai.descriptorSetCount = uint32_t(layouts.size());
  ai.pSetLayouts = layouts.data();
  SP_VK(vkAllocateDescriptorSets(device, &ai, sets));
  return pool;
}

VkPipeline make_graphics_pipeline(VkDevice device, VkPipelineLayout layout, VkRenderPass pass, ShaderId vert,
                                  ShaderId frag, VkPrimitiveTopology topology,
                                  const VkPipelineColorBlendAttachmentState& blend) {
  VkShaderModule vs = make_shader_module(device, vert), fs = make_shader_module(device, frag);
  VkPipelineShaderStageCreateInfo stages[2]{};
  stages[0] = {VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO};
  stages[0].stage = VK_SHADER_STAGE_VERTEX_BIT;
  stages[0].module = vs;
  stages[0].pName = "main";
  stages[1] = {VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO};
  stages[1].stage = VK_SHADER_STAGE_FRAGMENT_BIT;
  stages[1].module = fs;
  stages[1].pName = "main";
  VkPipelineVertexInputStateCreateInfo vi{VK_STRUCTURE_TYPE_PIPELINE_VERTEX_INPUT_STATE_CREATE_INFO};
  VkPipelineInputAssemblyStateCreateInfo ia{VK_STRUCTURE_TYPE_PIPELINE_INPUT_ASSEMBLY_STATE_CREATE_INFO};
  ia.topology = topology;
  VkPipelineViewportStateCreateInfo vp{VK_STRUCTURE_TYPE_PIPELINE_VIEWPORT_STATE_CREATE_INFO};
  vp.viewportCount = 1;
  vp.scissorCount = 1;
  VkPipelineRasterizationStateCreateInfo rs{VK_STRUCTURE_TYPE_PIPELINE_RASTERIZATION_STATE_CREATE_INFO};
  rs.polygonMode = VK_POLYGON_MODE_FILL;
  rs.cullMode = VK_CULL_MODE_NONE;
  rs.frontFace = VK_FRONT_FACE_COUNTER_CLOCKWISE;
  rs.lineWidth = 1.0f;
  VkPipelineMultisampleStateCreateInfo ms{VK_STRUCTURE_TYPE_PIPELINE_MULTISAMPLE_STATE_CREATE_INFO};
  ms.rasterizationSamples = VK_SAMPLE_COUNT_1_BIT;
  VkPipelineColorBlendStateCreateInfo cb{VK_STRUCTURE_TYPE_PIPELINE_COLOR_BLEND_STATE_CREATE_INFO};
  cb.attachmentCount = 1;
  cb.pAttachments = &blend;
  VkDynamicState dyn[2] = {VK_DYNAMIC_STATE_VIEWPORT, VK_DYNAMIC_STATE_SCISSOR};
  VkPipelineDynamicStateCreateInfo ds{VK_STRUCTURE_TYPE_PIPELINE_DYNAMIC_STATE_CREATE_INFO};
  ds.dynamicStateCount = 2;
  ds.pDynamicStates = dyn;
  VkGraphicsPipelineCreateInfo gi{VK_STRUCTURE_TYPE_GRAPHICS_PIPELINE_CREATE_INFO};
  gi.stageCount = 2;
  gi.pStages = stages;
  gi.pVertexInputState = &vi;
  gi.pInputAssemblyState = &ia;
  gi.pViewportState = &vp;
  gi.pRasterizationState = &rs;
  gi.pMultisampleState = &ms;
  gi.pColorBlendState = &cb;
  gi.pDynamicState = &ds;
  gi.layout = layout;
  gi.renderPass = pass;
  VkPipeline pipeline = VK_NULL_HANDLE;
  const VkResult r = vkCreateGraphicsPipelines(device, VK_NULL_HANDLE, 1, &gi, nullptr, &pipeline);
  vkDestroyShaderModule(device, vs, nullptr);
  vkDestroyShaderModule(device, fs, nullptr);
  SP_VK(r);
  return pipeline;
}

ComputePipeline make_compute_pipeline(VkDevice device, ShaderId id, VkDescriptorSetLayout set_layout,
                                      uint32_t push_bytes) {
  ComputePipeline p;
  VkPushConstantRange range{VK_SHADER_STAGE_COMPUTE_BIT, 0, push_bytes};
  VkPipelineLayoutCreateInfo li{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
  li.setLayoutCount = 1;
  li.pSetLayouts = &set_layout;
  li.pushConstantRangeCount = push_bytes ? 1 : 0;
  li.pPushConstantRanges = &range;
  SP_VK(vkCreatePipelineLayout(device, &li, nullptr, &p.layout));
  VkShaderModule module = make_shader_module(device, id);
  VkComputePipelineCreateInfo ci{VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
  ci.stage = {VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO};
  ci.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
  ci.stage.module = module;
  ci.stage.pName = "main";
  ci.layout = p.layout;
  const VkResult r = vkCreateComputePipelines(device, VK_NULL_HANDLE, 1, &ci, nullptr, &p.pipeline);
  vkDestroyShaderModule(device, module, nullptr);
  SP_VK(r);
  return p;
}

void destroy_pipeline(VkDevice device, ComputePipeline& p) {
  if (p.pipeline) vkDestroyPipeline(device, p.pipeline, nullptr);
  if (p.layout) vkDestroyPipelineLayout(device, p.layout, nullptr);
  p = {};
}

VkDescriptorSetLayout make_storage_set_layout(VkDevice device, uint32_t count, VkShaderStageFlags stages) {
  std::vector<VkDescriptorSetLayoutBinding> bindings(count);
  for (uint32_t i = 0; i < count; ++i) bindings[i] = {i, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, stages, nullptr};
  VkDescriptorSetLayoutCreateInfo ci{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
  ci.bindingCount = count;
  ci.pBindings = bindings.data();
  VkDescriptorSetLayout layout;
  SP_VK(vkCreateDescriptorSetLayout(device, &ci, nullptr, &layout));
  return layout;
}

void write_storage_buffers(VkDevice device, VkDescriptorSet set, const std::vector<const GpuBuffer*>& buffers) {
  std::vector<VkDescriptorBufferInfo> infos(buffers.size());
  std::vector<VkWriteDescriptorSet> writes(buffers.size());
  for (size_t i = 0; i < buffers.size(); ++i) {
    infos[i] = {buffers[i]->buffer, 0, VK_WHOLE_SIZE};
    writes[i] = {VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
    writes[i].dstSet = set;
    writes[i].dstBinding = uint32_t(i);
    writes[i].descriptorCount = 1;
    writes[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
    writes[i].pBufferInfo = &infos[i];
  }
  vkUpdateDescriptorSets(device, uint32_t(writes.size()), writes.data(), 0, nullptr);
}

void buffer_barrier(VkCommandBuffer cmd, VkPipelineStageFlags src_stage, VkAccessFlags src_access,
                    VkPipelineStageFlags dst_stage, VkAccessFlags dst_access) {
  VkMemoryBarrier b{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
  b.srcAccessMask = src_access;
  b.dstAccessMask = dst_access;
  vkCmdPipelineBarrier(cmd, src_stage, dst_stage, 0, 1, &b, 0, nullptr, 0, nullptr);
}

void image_barrier(VkCommandBuffer cmd, VkImage image, VkPipelineStageFlags src_stage, VkAccessFlags src_access,
                   VkImageLayout old_layout, VkPipelineStageFlags dst_stage, VkAccessFlags dst_access,
                   VkImageLayout new_layout) {
  VkImageMemoryBarrier b{VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER};
  b.srcAccessMask = src_access;
  b.dstAccessMask = dst_access;
  b.oldLayout = old_layout;
  b.newLayout = new_layout;
  b.srcQueueFamilyIndex = b.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
  b.image = image;
  b.subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1};
  vkCmdPipelineBarrier(cmd, src_stage, dst_stage, 0, 0, nullptr, 0, nullptr, 1, &b);
}

}  // namespace sp
