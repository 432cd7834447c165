#pragma once
// Image size from the file header alone: dataset loaders check every view's size at load
// time, and read_image_info (engine/io/image_io.h) reads whole files, which for a few
// hundred full-size photos is gigabytes. This reads only as far as the header.
#include <string>
#include <string_view>

#include "engine/io/image_io.h"

namespace sp {

// BadInput naming the file if it is missing, not a regular file, or not a readable image.
// Also refuses a header whose size would not fit the memory budget once decoded
// (check_image_size), so a dataset with such a file fails at load time, not mid-run.
ImageInfo read_image_header(const std::string& path);
// BadInput naming `where` for a non-positive size or one whose decoded pixels (8 or 16-bit
// and the float image) exceed the memory budget (engine/core/memory_budget.h).
void check_image_size(const ImageInfo& info, const std::string& where, int bytes_per_channel = 1);
// BadInput naming `where` for a JPEG whose Huffman tables would overflow stb_image 2.27's
// tables (Debian 12's; fixed upstream in 2.28). Every stb call on image bytes runs this first.
void check_jpeg_huffman_tables(std::string_view bytes, const std::string& where);
// BadInput naming `where` for a PNG chunk longer than the bytes left: stb_image allocates an
// IDAT chunk's claimed length (up to 2 GiB) before reading it. Run before decoding a PNG.
void check_png_chunk_lengths(std::string_view bytes, const std::string& where);

}  // namespace sp
