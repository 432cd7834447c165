#include "engine/synth/wild_photos.h"

#include <algorithm>
#include <cmath>

#include "engine/core/rng.h"

namespace sp::synth {

std::vector<float> ColourTransform::code() const {
  std::vector<float> c(12);
  for (int r = 0; r < 3; ++r)
    for (int k = 0; k < 3; ++k) c[size_t(3 * r + k)] = A[k][r];
  for (int r = 0; r < 3; ++r) c[size_t(9 + r)] = b[r];
  return c;
}

std::vector<ColourTransform> draw_colour_transforms(int photos, const WildPhotoOptions& o) {
  std::vector<ColourTransform> t(size_t(std::max(0, photos)));
  if (t.empty() || !(o.colour_spread > 0)) return t;
  Rng rng(o.seed ^ 0xc0105e7ab1e5ull);
  for (ColourTransform& x : t) {
    const float exposure = rng.normal(0.0f, o.colour_spread);  // shared by the channels
    for (int r = 0; r < 3; ++r)
      for (int k = 0; k < 3; ++k)
        x.A[k][r] = r == k ? std::exp(exposure + rng.normal(0.0f, 0.5f * o.colour_spread))
                           : rng.normal(0.0f, 0.25f * o.colour_spread);
    for (int r = 0; r < 3; ++r) x.b[r] = rng.normal(0.0f, 0.25f * o.colour_spread);
  }
  glm::mat3 mean_A(0.0f);
  glm::vec3 mean_b(0.0f);
  for (const ColourTransform& x : t) mean_A += x.A, mean_b += x.b;
  mean_A /= float(t.size());
  mean_b /= float(t.size());
  for (ColourTransform& x : t) x.A += glm::mat3(1.0f) - mean_A, x.b -= mean_b;
  return t;
}

void apply_colour_transform(Image& rgb, const ColourTransform& t) {
  for (size_t p = 0; p < rgb.pixel_count(); ++p) {
    float* c = &rgb.pixels[3 * p];
    const glm::vec3 out = t.A * glm::vec3(c[0], c[1], c[2]) + t.b;
    for (int k = 0; k < 3; ++k) c[k] = std::clamp(out[k], 0.0f, 1.0f);
  }
}

Image paste_occluders(Image& rgb, int photo_index, const WildPhotoOptions& o) {
  Image mask(rgb.width, rgb.height, 1);
  Rng rng(o.seed * 0x9E3779B97F4A7C15ull + uint64_t(photo_index) * 0x2545F4914F6CDD1Dull + 0x0cc1d3);
  const float side = float(std::min(rgb.width, rgb.height));
  for (int k = 0; k < o.occluders; ++k) {
    const float cx = rng.uniform(0.15f, 0.85f) * float(rgb.width), cy = rng.uniform(0.15f, 0.85f) * float(rgb.height);
    const float rx = o.occluder_size * side * rng.uniform(0.6f, 1.2f), ry = o.occluder_size * side * rng.uniform(0.8f, 1.6f);
    const glm::vec3 colour(rng.uniform(), rng.uniform(), rng.uniform());
    for (int y = 0; y < rgb.height; ++y)
      for (int x = 0; x < rgb.width; ++x) {
        const float dx = (float(x) + 0.5f - cx) / rx, dy = (float(y) + 0.5f - cy) / ry;
        if (dx * dx + dy * dy > 1.0f) continue;
        const size_t p = size_t(y) * size_t(rgb.width) + size_t(x);
        for (int c = 0; c < 3; ++c) rgb.pixels[3 * p + size_t(c)] = colour[c];
        mask.pixels[p] = 1.0f;
      }
  }
  return mask;
}

}  // namespace sp::synth
