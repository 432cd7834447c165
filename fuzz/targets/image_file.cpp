// Image files through the loaders that take a path: the header reader the datasets check
// every view with (stb's info from the file, the memory-budget check) and the mask loader
// (decode, channel 0, resampled to another size).
#include <fstream>

#include "engine/io/image_header.h"
#include "engine/io/image_io.h"
#include "fuzz_target.h"

SPARSPLAT_FUZZ_TARGET({
  static const std::string path = sp::fuzz::scratch_dir() + "/view.png";
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), std::streamsize(bytes.size()));
  sp::read_image_header(path);
  sp::load_mask_image(path, 7, 5);
})
