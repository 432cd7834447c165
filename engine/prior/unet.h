#pragma once
// The built-in denoiser: a compact UNet (docs/prior.md). Input channels: x_t (3) and the
// reference view (3, zeros when there is none); the noise level enters as a sinusoidal
// embedding of log-SNR, added inside every residual block. Output: x_0 = sqrt(ab) x_t +
// F(...), so with no noise the baseline is the identity and F only has to learn the
// correction. Built only with libtorch (SPARSPLAT_TORCH); the torch code lives in
// engine/prior/torch/.
#include <cstdint>
#include <memory>
#include <string>

#include "engine/prior/denoiser.h"

namespace sp::prior {

struct UNetConfig {
  int base_channels = 32;  // channels at full resolution; x2 at each coarser level
  int levels = 3;          // resolutions (levels - 1 downsamplings by 2)
};

class UNetDenoiser : public Denoiser {
 public:
  UNetDenoiser(const UNetConfig& config, uint64_t seed);
  ~UNetDenoiser() override;
  // Model written by save() (the weights and the config), or a train-prior checkpoint's
  // weights (PriorOptimizer::save_checkpoint); BadInput naming the file.
  static std::unique_ptr<UNetDenoiser> load(const std::string& path);
  // Atomic (temporary file + rename).
  void save(const std::string& path) const;

  std::string name() const override { return "unet"; }
  Image predict_clean(const Image& noisy, float alpha_bar, const Image* reference) override;
  const UNetConfig& config() const { return config_; }
  size_t parameter_count() const;

  struct Network;  // torch side (engine/prior/torch/)
  Network& network() { return *network_; }

 private:
  UNetConfig config_;
  std::unique_ptr<Network> network_;
};

}  // namespace sp::prior
