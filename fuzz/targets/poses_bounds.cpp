// LLFF poses_bounds.npy: the array, then its rows as cameras.
#include "engine/io/llff.h"
#include "engine/io/npy.h"
#include "fuzz_target.h"

SPARSPLAT_FUZZ_TARGET(sp::parse_poses_bounds(sp::parse_npy(bytes, "poses_bounds.npy"), "poses_bounds.npy"))
