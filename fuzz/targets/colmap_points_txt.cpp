// COLMAP points3D.txt.
#include "engine/io/colmap.h"
#include "fuzz_target.h"

SPARSPLAT_FUZZ_TARGET(sp::parse_colmap_points_txt(bytes, "points3D.txt"))
