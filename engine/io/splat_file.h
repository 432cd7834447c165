#pragma once
// antimatter15's .splat (the web viewer at antimatter15.com/splat and the many viewers that
// copied its loader): no header, 32 bytes per Gaussian, little-endian:
//   bytes  0..11  position x, y, z        float32
//   bytes 12..23  scale x, y, z           float32, linear (exp of our log-scale)
//   bytes 24..27  r, g, b, a              uint8: colour 0.5 + C0 * f_dc and sigmoid(opacity), x 255
//   bytes 28..31  rotation w, x, y, z     uint8: unit quaternion x 128 + 128
// Checked against antimatter15/splat's convert.py (writer) and the loaders in its main.js
// family, which decode the rotation as (byte - 128) / 128 and the colour as byte / 255.
// No SH beyond the DC colour and no extra channels. Coordinates are the PLY's (no change).
// Quantization bounds and sizes: docs/export.md.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "engine/model/gaussian_model.h"

namespace sp {

// The order the writer stores Gaussians in: by decreasing volume x opacity (exp(sum of
// log-scales) * sigmoid(opacity)), as convert.py sorts them, so progressive loaders show the
// big opaque splats first; ties keep the model's order.
std::vector<size_t> splat_order(const GaussianModel& model);

// The file's bytes. Colour and alpha are rounded to the nearest code (convert.py truncates;
// rounding halves the error and decodes the same way); log-scales beyond +-80 are clamped so
// the linear scale stays a finite float32.
std::string encode_splat(const GaussianModel& model);
// Decodes `bytes` (`where` names them in errors): BadInput unless the size is a multiple of
// 32 and every position and scale is finite with scales >= 0. A zero rotation becomes the
// identity; alpha codes 0 and 255 decode half a step inside (0, 1) so opacity logits stay finite.
GaussianModel decode_splat(std::string_view bytes, const std::string& where);

void write_splat(const std::string& path, const GaussianModel& model);  // atomically
GaussianModel read_splat(const std::string& path);

}  // namespace sp
