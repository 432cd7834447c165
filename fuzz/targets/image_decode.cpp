// Image bytes through the decoder (PNG, JPEG, BMP, ...; 8 and 16 bit), at the file's
// channel count and forced to RGB.
#include "engine/io/image_io.h"
#include "fuzz_target.h"

SPARSPLAT_FUZZ_TARGET({
  sp::decode_image(bytes, "view.png");
  sp::decode_image(bytes, "view.png", 3);
})
