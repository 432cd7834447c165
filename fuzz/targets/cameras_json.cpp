// INRIA cameras.json (with ids).
#include "engine/io/cameras_json.h"
#include "fuzz_target.h"

SPARSPLAT_FUZZ_TARGET({
  std::vector<int> ids;
  sp::parse_cameras_json(bytes, "cameras.json", &ids);
})
