// Scene files of the generator (engine/synth/scene_file.h), validated.
#include "engine/synth/scene_file.h"
#include "fuzz_target.h"

SPARSPLAT_FUZZ_TARGET(sp::synth::parse_scene(bytes, "scene.json", sp::fuzz::scratch_dir()))
