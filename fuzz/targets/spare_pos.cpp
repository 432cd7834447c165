// SpaRe / DTU pos_XXX.txt: the projection matrix, its decomposition and the camera.
#include "engine/io/spare.h"
#include "fuzz_target.h"

SPARSPLAT_FUZZ_TARGET({
  const sp::DecomposedProjection d = sp::decompose_projection(sp::parse_projection_matrix(bytes, "pos_001.txt"), "pos_001.txt");
  sp::camera_from_projection(d, "cam_001_3_0000.png", 64, 48, "pos_001.txt");
})
