#pragma once
// Display-internal: the GPU radix sort of (key, value) uint32 pairs (shaders/radix_*.comp).
// Stable LSD sort, 8 passes of 4 bits; each pass = histogram per block of 2048 keys → one
// workgroup scans the digit-major histogram → stable scatter. The number of keys is read
// on the GPU from the counter buffer (counters.glsl), and the per-pass dispatch size comes
// from prepare_indirect.comp through vkCmdDispatchIndirect: the CPU never reads it back.
#include "engine/display/vulkan_device_vk.h"

namespace sp {

class RadixSort {
 public:
  static constexpr uint32_t kBlockKeys = 2048;  // THREADS * ITEMS of radix_common.glsl

  explicit RadixSort(VulkanDevice::Impl& dev);
  ~RadixSort();
  RadixSort(const RadixSort&) = delete;
  RadixSort& operator=(const RadixSort&) = delete;

  // Sorts `keys`/`values` (room for `capacity` pairs) in place; `counters` holds the count.
  void bind(const GpuBuffer& keys, const GpuBuffer& values, const GpuBuffer& counters, uint32_t capacity);
  // prepare_indirect.comp: dispatch and draw arguments from the count (after a barrier that
  // makes the count visible to compute shaders).
  void record_prepare(VkCommandBuffer cmd);
  // The 8 passes; ends with the sorted pairs visible to compute and vertex shaders.
  void record_sort(VkCommandBuffer cmd);

 private:
  VulkanDevice::Impl& dev_;
  VkDescriptorSetLayout sort_layout_ = VK_NULL_HANDLE, prepare_layout_ = VK_NULL_HANDLE;
  VkDescriptorPool pool_ = VK_NULL_HANDLE;
  VkDescriptorSet sets_[2]{};  // keys → tmp, tmp → keys
  VkDescriptorSet prepare_set_ = VK_NULL_HANDLE;
  ComputePipeline histogram_, scan_, scatter_, prepare_;
  GpuBuffer keys_tmp_, values_tmp_, histogram_buffer_;
  const GpuBuffer* counters_ = nullptr;
};

}  // namespace sp
