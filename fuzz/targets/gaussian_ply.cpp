// A PLY read as a Gaussian model: INRIA layout or SuperSplat compressed.
#include "engine/io/gaussian_ply.h"
#include "engine/io/ply.h"
#include "fuzz_target.h"

SPARSPLAT_FUZZ_TARGET(sp::gaussian_model_from_ply(sp::ply::read_ply_bytes(std::string(bytes), "m.ply"), "m.ply"))
