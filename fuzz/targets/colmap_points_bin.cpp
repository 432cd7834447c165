// COLMAP points3D.bin.
#include "engine/io/colmap.h"
#include "fuzz_target.h"

SPARSPLAT_FUZZ_TARGET(sp::parse_colmap_points_bin(bytes, "points3D.bin"))
