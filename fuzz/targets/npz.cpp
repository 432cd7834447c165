// NumPy .npz archives (zip of .npy entries).
#include "engine/io/npy.h"
#include "fuzz_target.h"

SPARSPLAT_FUZZ_TARGET(sp::parse_npz(bytes, "a.npz"))
