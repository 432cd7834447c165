// GPU radix sort (radix_sort_vk.h) and its public wrapper DepthSorter.
#include "engine/display/radix_sort_vk.h"

#include "engine/core/error.h"
#include "engine/display/depth_sorter.h"

namespace sp {

namespace {
void compute_barrier(VkCommandBuffer cmd) {
  buffer_barrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_SHADER_READ_BIT,
                 VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
}
}  // namespace

RadixSort::RadixSort(VulkanDevice::Impl& dev) : dev_(dev) {
  VkDevice d = dev.device;
  sort_layout_ = make_storage_set_layout(d, 6, VK_SHADER_STAGE_COMPUTE_BIT);
  prepare_layout_ = make_storage_set_layout(d, 1, VK_SHADER_STAGE_COMPUTE_BIT);
  histogram_ = make_compute_pipeline(d, ShaderId::RadixHistogram, sort_layout_, 4);
  scan_ = make_compute_pipeline(d, ShaderId::RadixScan, sort_layout_, 4);
  scatter_ = make_compute_pipeline(d, ShaderId::RadixScatter, sort_layout_, 4);
  prepare_ = make_compute_pipeline(d, ShaderId::PrepareIndirect, prepare_layout_, 0);
  const VkDescriptorSetLayout layouts[3] = {sort_layout_, sort_layout_, prepare_layout_};
  VkDescriptorSet sets[3];
  pool_ = make_descriptor_sets(d, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 13, layouts, sets);
  sets_[0] = sets[0];
  sets_[1] = sets[1];
  prepare_set_ = sets[2];
}

RadixSort::~RadixSort() {
  VkDevice d = dev_.device;
  vkDeviceWaitIdle(d);
  destroy_pipeline(d, histogram_);
  destroy_pipeline(d, scan_);
  destroy_pipeline(d, scatter_);
  destroy_pipeline(d, prepare_);
  vkDestroyDescriptorPool(d, pool_, nullptr);
  vkDestroyDescriptorSetLayout(d, sort_layout_, nullptr);
  vkDestroyDescriptorSetLayout(d, prepare_layout_, nullptr);
}

void RadixSort::bind(const GpuBuffer& keys, const GpuBuffer& values, const GpuBuffer& counters, uint32_t capacity) {
  const VkBufferUsageFlags usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
  const VkDeviceSize bytes = VkDeviceSize(capacity) * 4;
  keys_tmp_ = make_buffer(dev_, bytes, usage, false);
  values_tmp_ = make_buffer(dev_, bytes, usage, false);
  const VkDeviceSize blocks = (VkDeviceSize(capacity) + kBlockKeys - 1) / kBlockKeys;
  histogram_buffer_ = make_buffer(dev_, std::max<VkDeviceSize>(blocks, 1) * 16 * 4, usage, false);
  counters_ = &counters;
  write_storage_buffers(dev_.device, sets_[0], {&keys, &values, &keys_tmp_, &values_tmp_, &histogram_buffer_, &counters});
  write_storage_buffers(dev_.device, sets_[1], {&keys_tmp_, &values_tmp_, &keys, &values, &histogram_buffer_, &counters});
  write_storage_buffers(dev_.device, prepare_set_, {&counters});
}

void RadixSort::record_prepare(VkCommandBuffer cmd) {
  vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, prepare_.pipeline);
  vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, prepare_.layout, 0, 1, &prepare_set_, 0, nullptr);
  vkCmdDispatch(cmd, 1, 1, 1);
  buffer_barrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_SHADER_READ_BIT,
                 VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_DRAW_INDIRECT_BIT,
                 VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_INDIRECT_COMMAND_READ_BIT);
}

void RadixSort::record_sort(VkCommandBuffer cmd) {
  for (uint32_t pass = 0; pass < 8; ++pass) {
    const uint32_t shift = pass * 4;
    VkDescriptorSet set = sets_[pass % 2];
    auto run = [&](const ComputePipeline& p, bool indirect) {
      vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p.pipeline);
      vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p.layout, 0, 1, &set, 0, nullptr);
      vkCmdPushConstants(cmd, p.layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, 4, &shift);
      if (indirect) vkCmdDispatchIndirect(cmd, counters_->buffer, 4);  // counters[1..3]
      else vkCmdDispatch(cmd, 1, 1, 1);
      compute_barrier(cmd);
    };
    run(histogram_, true);
    run(scan_, false);
    run(scatter_, true);
  }
  // An even number of passes: the result is back in the bound keys/values.
  buffer_barrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
                 VK_PIPELINE_STAGE_VERTEX_SHADER_BIT | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT |
                     VK_PIPELINE_STAGE_TRANSFER_BIT,
                 VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_TRANSFER_READ_BIT);
}

// ---- DepthSorter ----------------------------------------------------------------------

struct DepthSorter::Impl {
  explicit Impl(VulkanDevice::Impl& d) : dev(d), sort(d) {}
  VulkanDevice::Impl& dev;
  RadixSort sort;
};

DepthSorter::DepthSorter(VulkanDevice& device) : impl_(std::make_unique<Impl>(device.impl())) {}
DepthSorter::~DepthSorter() = default;

void DepthSorter::sort(std::vector<uint32_t>& keys, std::vector<uint32_t>& values) {
  if (keys.size() != values.size()) throw_internal("DepthSorter: keys and values differ in length");
  if (keys.size() >= (size_t(1) << 31)) throw_internal("DepthSorter: too many keys");
  const uint32_t n = uint32_t(keys.size());
  VulkanDevice::Impl& dev = impl_->dev;
  const VkBufferUsageFlags usage =
      VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT;
  GpuBuffer k = make_buffer(dev, VkDeviceSize(n) * 4, usage, false);
  GpuBuffer v = make_buffer(dev, VkDeviceSize(n) * 4, usage, false);
  GpuBuffer counters = make_buffer(dev, 64, usage | VK_BUFFER_USAGE_INDIRECT_BUFFER_BIT, false);
  upload_buffer(dev, k, keys.data(), VkDeviceSize(n) * 4);
  upload_buffer(dev, v, values.data(), VkDeviceSize(n) * 4);
  impl_->sort.bind(k, v, counters, n);
  dev.submit_and_wait([&](VkCommandBuffer cmd) {
    uint32_t init[16] = {n};  // the count; prepare_indirect.comp fills in the rest
    vkCmdUpdateBuffer(cmd, counters.buffer, 0, sizeof init, init);
    buffer_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                   VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
    impl_->sort.record_prepare(cmd);
    impl_->sort.record_sort(cmd);
  });
  download_buffer(dev, k, keys.data(), VkDeviceSize(n) * 4);
  download_buffer(dev, v, values.data(), VkDeviceSize(n) * 4);
}

}  // namespace sp
