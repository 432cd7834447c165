#pragma once
// Image files (PNG, JPEG, BMP, TGA... through stb_image) to and from float images.
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/image.h"

namespace sp {

struct ImageInfo {
  int width = 0, height = 0, channels = 0;
};

// Header only (no pixel decode). BadInput naming the file if it is not a readable image.
ImageInfo read_image_info(const std::string& path);
// Decodes to float [0, 1] with the file's channel count (1-4) unless `channels` > 0 forces it.
Image load_image(const std::string& path, int channels = 0);
// The same from the bytes of an image file (e.g. an archive entry); `where` names it in errors.
Image decode_image(std::string_view bytes, const std::string& where, int channels = 0);
// An object mask: channel 0 of an image file as a 1-channel image, area-resampled to
// width x height when its size differs (0, 0: the file's size).
Image load_mask_image(const std::string& path, int width = 0, int height = 0);
// 8-bit PNG (values clamped to [0, 1] and rounded), written atomically. 1, 3 or 4 channels.
void save_png(const std::string& path, const Image& image);
// The 8-bit encodings save_png writes, in memory (1, 3 or 4 channels; values clamped to [0, 1]).
std::string encode_png(const Image& image);
std::string encode_jpeg(const Image& image, int quality = 85);
// 16-bit grayscale PNG of values in [0, 1] (for depth maps and masks that need range).
void save_png16(const std::string& path, const Image& image);

// Area-average resampling to any smaller (or equal) size, as image libraries do for
// downscaling: each output pixel averages the input area it covers. Upscaling falls back
// to bilinear.
Image resize_image(const Image& image, int width, int height);
// Composites an RGBA image over a solid background colour, returning RGB.
Image composite_rgba(const Image& rgba, float r, float g, float b);
// Panels of one height side by side, left to right, as RGB (1-channel panels in grey), for
// looking at results (ground truth | render | error).
Image side_by_side(const std::vector<Image>& panels);

// "<stem>.png" for a dataset image name, with its subfolder folded into the name so train
// and test views with the same stem do not collide ("test/r_0.png" -> "test_r_0.png").
std::string render_file_name(const std::string& image_name);

}  // namespace sp
