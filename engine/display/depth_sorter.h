#pragma once
// The GPU radix sort of the display pipeline (shaders/radix_*.comp), usable on its own:
// a stable ascending sort of (key, value) uint32 pairs. The splat pipeline sorts depth
// keys with it every frame; this entry point uploads, sorts and reads back (tests, bench).
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/display/vulkan_device.h"

namespace sp {

class DepthSorter {
 public:
  explicit DepthSorter(VulkanDevice& device);
  ~DepthSorter();
  // Sorts the pairs by key (stable: equal keys keep their order). Sizes must match.
  void sort(std::vector<uint32_t>& keys, std::vector<uint32_t>& values);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sp
