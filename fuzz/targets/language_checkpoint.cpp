// The language trainer's checkpoint files (sparsplat language --resume).
#include "engine/language/language_checkpoint.h"
#include "fuzz_target.h"

SPARSPLAT_FUZZ_TARGET(sp::decode_language_checkpoint(bytes, "lang.language-checkpoint.bin"))
