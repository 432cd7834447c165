// COLMAP images.bin, and each image's pose set on a camera.
#include "engine/io/colmap.h"
#include "fuzz_target.h"

SPARSPLAT_FUZZ_TARGET(for (const auto& im : sp::parse_colmap_images_bin(bytes, "images.bin")) {
  sp::Camera c;
  sp::set_colmap_pose(c, im, "images.bin");
})
