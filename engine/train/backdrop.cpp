#include "engine/train/backdrop.h"

#include <algorithm>

namespace sp {

Image dark_backdrop_mask(const Image& rgb, const BackdropOptions& o) {
  const int W = rgb.width, H = rgb.height;
  Image mask(W, H, 1);
  // Per column, the length of the run of dark pixels ending at each row (top edge counts as
  // dark beyond the image, so a dark top strip shorter than `column` is backdrop too).
  for (int x = 0; x < W; ++x) {
    int run = 0;  // dark pixels directly above the current one, the current one included
    for (int y = 0; y < H; ++y) {
      float brightest = 0;
      for (int c = 0; c < rgb.channels && c < 3; ++c) brightest = std::max(brightest, rgb.at(x, y, c));
      run = brightest < o.threshold ? run + 1 : 0;
      // The pixel and the `column` above it are dark: run >= column + 1, or the run reaches the top.
      const bool dark_above = run >= o.column + 1 || run == y + 1;
      mask.at(x, y, 0) = run > 0 && dark_above ? 1.0f : 0.0f;
    }
  }
  return mask;
}

}  // namespace sp
