// The prior's entry points in a build without libtorch (SPARSPLAT_TORCH=OFF): the sampler
// and refinement loop compile, the network backends report that they are missing.
#ifndef SPARSPLAT_HAS_TORCH
#include "engine/core/error.h"
#include "engine/prior/denoiser.h"

namespace sp::prior {

bool torch_backends_available() { return false; }
void init_torch_threads(int) {}
std::unique_ptr<Denoiser> load_denoiser(const std::string& path) {
  throw_bad_input(path, "this build has no libtorch (configure with -DSPARSPLAT_TORCH=ON and libtorch-dev)");
}

}  // namespace sp::prior
#endif
