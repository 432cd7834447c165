// SuperSplat compressed PLY (chunked 16-byte layout + 8-bit SH).
#include "engine/io/compressed_ply.h"
#include "fuzz_target.h"

SPARSPLAT_FUZZ_TARGET(sp::decode_compressed_ply_bytes(std::string(bytes), "m.compressed.ply"))
