#pragma once
// Photos "in the wild" from clean renders (docs/in_the_wild.md): a per-photo affine colour
// transform (exposure, white balance, tone) and pasted occluders (opaque blobs standing in
// for people, cars, flags), with exact ground truth for what was done, so tests and
// benchmarks can check that appearance codes recover the transforms and that the trimmed
// loss keeps the occluders out of the scene.
#include <cstdint>
#include <vector>

#include <glm/glm.hpp>

#include "engine/core/image.h"

namespace sp::synth {

// out = A c + b, clamped to [0, 1] when applied to a photo.
struct ColourTransform {
  glm::mat3 A{1.0f};  // GLM column-major: A[col][row]
  glm::vec3 b{0.0f};
  // The 12-value code layout of engine/train/appearance.h (A row-major, then b).
  std::vector<float> code() const;
};

struct WildPhotoOptions {
  // Spread of the transforms: gains exp(N(0, spread)) per channel, cross-talk and offsets
  // N(0, spread / 4); 0 = none. The transforms are then shifted so that their mean is the
  // identity (the look the codes' gauge recovers, appearance.h).
  float colour_spread = 0.0f;
  int occluders = 0;             // per photo
  float occluder_size = 0.18f;   // blob radius, fraction of the image's shorter side
  uint64_t seed = 0;
};

std::vector<ColourTransform> draw_colour_transforms(int photos, const WildPhotoOptions& options);
void apply_colour_transform(Image& rgb, const ColourTransform& t);

// Pastes options.occluders random blobs (ellipses of a random flat colour) into the photo;
// returns the 1-channel mask of the pasted pixels (1 = occluder). `photo_index` varies the
// draw per photo.
Image paste_occluders(Image& rgb, int photo_index, const WildPhotoOptions& options);

}  // namespace sp::synth
