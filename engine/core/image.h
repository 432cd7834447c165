#pragma once
// A float image, channels interleaved (HWC), values nominally in [0, 1].
#include <cstddef>
#include <vector>

namespace sp {

struct Image {
  int width = 0;
  int height = 0;
  int channels = 0;
  std::vector<float> pixels;  // size width * height * channels

  Image() = default;
  Image(int w, int h, int c, float fill = 0.0f) : width(w), height(h), channels(c), pixels(size_t(w) * h * c, fill) {}
  bool empty() const { return pixels.empty(); }
  size_t pixel_count() const { return size_t(width) * size_t(height); }
  float& at(int x, int y, int c) { return pixels[(size_t(y) * width + x) * channels + c]; }
  float at(int x, int y, int c) const { return pixels[(size_t(y) * width + x) * channels + c]; }
};

}  // namespace sp
