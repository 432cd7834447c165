#pragma once
// The viewer's query heatmap overlay (docs/viewer.md, docs/language.md): a relevance map in
// [0, 1] (any size, sampled nearest) tints the composited splat image where it exceeds a
// threshold. composite_heatmap is the CPU reference of shaders/composite.frag (with
// heatmap.glsl); composite_on_device runs that shader headless, for the comparison test.
#include <memory>
#include <vector>

#include <glm/vec3.hpp>

#include "engine/core/image.h"
#include "engine/display/vulkan_device.h"

namespace sp {

struct HeatmapParams {
  bool enabled = false;
  float opacity = 0.6f;    // alpha = opacity * relevance ...
  float threshold = 0.4f;  // ... where relevance > threshold (LERF's mask threshold)
};

// A relevance map, row-major width x height, values in [0, 1].
struct RelevanceOverlay {
  int width = 0, height = 0;
  std::vector<float> values;
};

// The ramp of `sparsplat query`'s heatmap PNGs (blue -> green -> red) at t in [0, 1].
glm::vec3 heatmap_ramp(float t);
// The relevance texel shown at pixel (x, y) of a width x height image.
inline int heatmap_texel(int pixel, int image_size, int map_size) {
  const int q = pixel * map_size / image_size;
  return q < map_size - 1 ? q : map_size - 1;
}

// The composite pass on the CPU: `target` is the splat target (4 channels: Σ c α T, 1 − T),
// the result C = clamp(rgb + T bg) with the heatmap blended over it: 3 channels, not
// quantized (the swapchain stores 8 bits).
Image composite_heatmap(const Image& target, const glm::vec3& background, const RelevanceOverlay& relevance,
                        const HeatmapParams& params);

// The same through composite.frag on `device`, into an 8-bit UNORM image read back as floats.
Image composite_on_device(VulkanDevice& device, const Image& target, const glm::vec3& background,
                          const RelevanceOverlay& relevance, const HeatmapParams& params);

}  // namespace sp
