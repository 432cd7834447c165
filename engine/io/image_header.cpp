#include "engine/io/image_header.h"

#include <algorithm>
#include <filesystem>

#include "engine/core/error.h"
#include "engine/core/memory_budget.h"

// Declarations only: the stb implementation is compiled once, in image_io.cpp.
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#endif
#include <stb_image.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

namespace sp {

ImageInfo read_image_header(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) throw_bad_input(path, "no such image file");
  // Only regular files: a FIFO or device named like an image must not block the loader.
  if (!fs::is_regular_file(path, ec)) throw_bad_input(path, "not a regular file (expected an image)");
  ImageInfo info;
  if (!stbi_info(path.c_str(), &info.width, &info.height, &info.channels))
    throw_bad_input(path, std::string("not a readable image (") + stbi_failure_reason() + ")");
  check_image_size(info, path, stbi_is_16_bit(path.c_str()) ? 2 : 1);
  return info;
}

void check_image_size(const ImageInfo& info, const std::string& where, int bytes_per_channel) {
  if (info.width <= 0 || info.height <= 0) throw_bad_input(where, "image has no pixels");
  const size_t values = saturating_mul(saturating_mul(size_t(info.width), size_t(info.height)), size_t(std::max(info.channels, 1)));
  // The decoder's buffer and the float image the engine keeps.
  check_memory(saturating_mul(values, size_t(bytes_per_channel) + sizeof(float)), where,
               "decoding the " + std::to_string(info.width) + "x" + std::to_string(info.height) + " image");
}

}  // namespace sp
