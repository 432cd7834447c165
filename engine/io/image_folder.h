#pragma once
// Which folder of a capture holds the images for a requested downscale. Captures from LLFF
// and Mip-NeRF 360 ship pre-shrunk copies (images_4/, images_8/) beside the full-size
// images/; the sparse-view protocols evaluate on exactly those files (e.g. LLFF at 1/8 =
// images_8, 504x378 for fern), so they are preferred over resizing images/ ourselves.
#include <string>
#include <vector>

namespace sp {

struct ImageFolder {
  std::string path;      // root/images or root/images_N
  std::string name;      // "images" or "images_N"
  int factor = 1;        // how much smaller than full size its files are (N for images_N)
  double remaining = 1;  // downscale still to apply after loading: downscale / factor (>= 1)
};

// downscale N > 0: images_N if present, else images/ (resized by N), else the finest images_M
// with M < N (resized by N / M). downscale 0 (automatic): images/ if present, else the finest
// images_M. BadInput naming `root` (and what exists) when no folder fits.
ImageFolder choose_image_folder(const std::string& root, int downscale);

// Image files (.png, .jpg, .jpeg in any letter case) directly in `folder`, sorted by name.
// BadInput if the folder cannot be listed.
std::vector<std::string> list_image_files(const std::string& folder);

bool has_image_extension(const std::string& filename);

}  // namespace sp
