#include "engine/io/image_header.h"

#include <filesystem>

#include "engine/core/error.h"

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
  if (info.width <= 0 || info.height <= 0) throw_bad_input(path, "image has no pixels");
  return info;
}

}  // namespace sp
