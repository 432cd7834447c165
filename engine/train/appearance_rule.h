#pragma once
// `--appearance auto` (docs/in_the_wild.md "When appearance turns on"): do the train photos
// differ in exposure or white balance? Measured on the same surfaces, not on whole photos
// (a view that sees more of a dark backdrop is not darker exposed): every SfM point is
// projected into the train photos that see it (its track when the format has tracks, and
// nearest among the points landing in its 4x4-pixel cell), and each photo's offset is the
// median over its points of (log luminance there - the point's mean over its photos),
// likewise for the chromaticities log(R/G) and log(B/G); points too dark or too bright on
// average (mean luminance outside [0.1, 0.9]) do not vote. Photos with fewer than 30 such
// points are left out (with 10, the 4-view 48x36 ring test scene, ~23 points a photo, read
// a colour spread of 0.33).
//
// The rule: appearance codes on when the spread (max - min over the photos) of the
// exposure offsets exceeds kExposureSpread (0.3: a 35% exposure difference) or that of
// either chromaticity exceeds kColourSpread (0.2: a 22% white-balance shift; the static
// synthetic ring scene, whose Gaussians have view-dependent colour, spreads 0.14). Without SfM
// points shared by two photos (random starts; the sparse-view protocols of LLFF, DTU and
// Blender, whose loaders keep no points for so few views) nothing is measured and auto
// stays off: whole-photo statistics were tried and mistake content for exposure (lego's 8
// views spread 0.75 in median log luminance, DTU's 3 views 0.26 in chromaticity).
#include <cstddef>
#include <string>

#include "engine/scene/dataset.h"

namespace sp {

constexpr double kExposureSpread = 0.3;
constexpr double kColourSpread = 0.2;

struct AppearanceSpread {
  double exposure = 0;  // max - min over the train photos of the log-luminance offsets
  double colour = 0;    // the larger of the log(R/G) and log(B/G) spreads
  size_t samples = 0;   // point observations measured
  size_t photos = 0;    // train photos with enough of them
  bool differs() const { return photos >= 2 && (exposure > kExposureSpread || colour > kColourSpread); }
  std::string describe() const;  // one line for the log
};

// Decodes the train photos (they are cached for training anyway).
AppearanceSpread measure_appearance_spread(const Dataset& data);

}  // namespace sp
