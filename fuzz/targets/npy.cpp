// NumPy .npy arrays (every supported dtype and format version).
#include "engine/io/npy.h"
#include "fuzz_target.h"

SPARSPLAT_FUZZ_TARGET(sp::parse_npy(bytes, "a.npy"))
