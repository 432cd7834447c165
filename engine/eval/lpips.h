#pragma once
// LPIPS (Zhang et al. 2018, "v0.1", AlexNet backbone): the perceptual distance the SpaRe
// benchmark reports (LPIPS and LPIPS-M, docs/submission.md "Metrics"), computed in plain C++
// (OpenMP over output channels; no libtorch).
//
//   x in [0, 1]  ->  v = 2x - 1  ->  (v - shift) / scale, shift (-0.030, -0.088, -0.188),
//                                    scale (0.458, 0.448, 0.450) per RGB channel
//   AlexNet features (torchvision's `alexnet().features`), taps after each ReLU:
//     conv1 11x11 stride 4 pad 2, 3 -> 64, ReLU           tap 1 (64 channels)
//     maxpool 3x3 stride 2; conv2 5x5 pad 2, 64 -> 192, ReLU    tap 2 (192)
//     maxpool 3x3 stride 2; conv3 3x3 pad 1, 192 -> 384, ReLU   tap 3 (384)
//     conv4 3x3 pad 1, 384 -> 256, ReLU                   tap 4 (256)
//     conv5 3x3 pad 1, 256 -> 256, ReLU                   tap 5 (256)
//   per tap k: f / (||f||_channels + 1e-10) for both images, squared difference, a 1x1
//   convolution to one channel with the learned non-negative weights lin_k (no bias), mean
//   over the tap's pixels;  LPIPS = sum over the 5 taps.
// Images must be at least 31 x 31 pixels (smaller inputs leave no pixel after the second
// pooling, where the reference implementation fails too).
//
// Weights file (scripts/convert_lpips.py writes it from the official LPIPS checkpoint
// `alex.pth` (v0.1 lin layers) and torchvision's AlexNet `alexnet-owt-7be5be79.pth`; neither
// ships with sparsplat):
//   bytes 0..7   "SPLPIPS1"
//   uint32       tensor count, 15
//   15 tensors in this order: conv1.weight, conv1.bias, ..., conv5.weight, conv5.bias,
//   lin1.weight, ..., lin5.weight; each
//     uint32 name length, the name (ASCII), uint32 rank, rank x uint32 dims,
//     float32 values in PyTorch's (row-major) order
//   shapes: conv1.weight [64, 3, 11, 11], conv2.weight [192, 64, 5, 5],
//   conv3.weight [384, 192, 3, 3], conv4.weight [256, 384, 3, 3], conv5.weight [256, 256, 3, 3],
//   convK.bias [out], linK.weight [1, C_K, 1, 1]. All integers and floats little-endian.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/core/image.h"

namespace sp {

struct LpipsConv {
  int out = 0, in = 0, kernel = 0, stride = 1, pad = 0;
  std::vector<float> weight;  // [out][in][kernel][kernel]
  std::vector<float> bias;    // [out]
};

struct LpipsWeights {
  std::array<LpipsConv, 5> conv;
  std::array<std::vector<float>, 5> lin;  // per tap, one weight per channel
};

// The network's shapes with zero weights (the layout every weights file must match).
LpipsWeights lpips_alex_shapes();
// Random weights (He-scaled normal convolutions, small positive biases, |normal| lin
// weights): the tests' stand-in for the official ones.
LpipsWeights random_lpips_weights(uint64_t seed);

// BadInput naming the file for a wrong magic, a name or shape that differs from the list
// above, truncation, trailing bytes, or non-finite values.
LpipsWeights read_lpips_weights(const std::string& path);
void write_lpips_weights(const std::string& path, const LpipsWeights& weights);

class Lpips {
 public:
  explicit Lpips(LpipsWeights weights);
  // From a weights file. An empty path is BadInput saying where weights come from (the
  // README's "LPIPS weights").
  static Lpips load(const std::string& path);

  // LPIPS distance of two RGB images in [0, 1] of the same size (channel 0..2 used).
  double distance(const Image& a, const Image& b) const;
  // The five taps' terms (their sum is distance()).
  std::array<double, 5> tap_distances(const Image& a, const Image& b) const;

  static constexpr int kMinSide = 31;

 private:
  LpipsWeights w_;
};

}  // namespace sp
