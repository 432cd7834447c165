// The trainer's checkpoint files.
#include "engine/train/checkpoint_file.h"
#include "fuzz_target.h"

SPARSPLAT_FUZZ_TARGET(sp::decode_checkpoint(bytes, "last.bin"))
