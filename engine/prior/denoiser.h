#pragma once
// The diffusion prior's network contract (docs/prior.md). A Denoiser sees a noisy image
//   x_t = sqrt(alpha_bar) * x_0 + sqrt(1 - alpha_bar) * eps        (values in [-1, 1])
// and predicts the clean image x_0. The optional reference (the nearest training photo,
// same size) is the "constraint" the network may copy detail from. Images cross this
// interface as engine Images (HWC, 3 channels) in signal space: value = 2 * pixel - 1, so
// clean images lie in [-1, 1]; the sampler (sampler.h) converts from and to pixels.
//
// Backends (built only with libtorch, SPARSPLAT_TORCH): the built-in compact UNet
// (engine/prior/unet.h) and a user's TorchScript model (load_denoiser). No torch type
// appears in any engine/prior header.
#include <memory>
#include <string>

#include "engine/core/image.h"

namespace sp::prior {

class Denoiser {
 public:
  virtual ~Denoiser() = default;
  virtual std::string name() const = 0;
  // x_0 prediction (signal space) from x_t at noise level alpha_bar in (0, 1]; `reference`
  // (signal space) may be null or empty when there is none.
  virtual Image predict_clean(const Image& noisy, float alpha_bar, const Image* reference) = 0;
};

// True when this build has the libtorch backends.
bool torch_backends_available();

// Sets libtorch's intra-op thread count (Debian's libtorch otherwise drops every OpenMP
// loop, the engine's included, to one thread). n <= 0: the engine's thread count
// (engine/core/parallel.h, `sparsplat --threads`; all hardware threads by default). A no-op
// without libtorch. Call once at start-up, before any other torch work.
void init_torch_threads(int n = 0);

// Loads a built-in UNet checkpoint or a TorchScript module (see docs/prior.md for the
// TorchScript forward signature). BadInput naming the file when it is neither, or when
// this build has no libtorch.
std::unique_ptr<Denoiser> load_denoiser(const std::string& path);

}  // namespace sp::prior
