// antimatter15 .splat model files.
#include "engine/io/splat_file.h"
#include "fuzz_target.h"

SPARSPLAT_FUZZ_TARGET(sp::decode_splat(bytes, "m.splat"))
