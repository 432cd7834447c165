#pragma once
// Image size from the file header alone: dataset loaders check every view's size at load
// time, and read_image_info (engine/io/image_io.h) reads whole files, which for a few
// hundred full-size photos is gigabytes. This reads only as far as the header.
#include <string>

#include "engine/io/image_io.h"

namespace sp {

// BadInput naming the file if it is missing, not a regular file, or not a readable image.
ImageInfo read_image_header(const std::string& path);

}  // namespace sp
