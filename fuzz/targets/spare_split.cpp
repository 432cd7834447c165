// SpaRe split files {scene: {input_views, test_views, dataset}}.
#include "engine/io/spare.h"
#include "fuzz_target.h"

SPARSPLAT_FUZZ_TARGET(sp::parse_spare_split(bytes, "split.json"))
