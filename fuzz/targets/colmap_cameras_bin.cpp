// COLMAP cameras.bin, and each camera turned into the engine's intrinsics.
#include "engine/io/colmap.h"
#include "fuzz_target.h"

SPARSPLAT_FUZZ_TARGET(for (const auto& c : sp::parse_colmap_cameras_bin(bytes, "cameras.bin")) sp::colmap_intrinsics(c, "cameras.bin"))
