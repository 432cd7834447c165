// Niantic .spz model files (gzip, v2 and v3).
#include "engine/io/spz_file.h"
#include "fuzz_target.h"

SPARSPLAT_FUZZ_TARGET(sp::decode_spz(bytes, "m.spz"))
