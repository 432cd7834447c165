#pragma once
// SuperSplat / PlayCanvas "compressed PLY" (.compressed.ply), read from playcanvas/
// splat-transform's writers/compressed-chunk.ts, write-compressed-ply.ts and
// readers/decompress-ply.ts. A binary little-endian PLY with
//   element chunk  ceil(N / 256) rows of float min_x min_y min_z max_x max_y max_z
//                  min_scale_x .. max_scale_z (log-scale, clamped to +-20) [min_r .. max_b]
//   element vertex N rows of uint packed_position, packed_rotation, packed_scale, packed_color
//   element sh     N rows of uchar f_rest_0 .. f_rest_{9,24,45 - 1} (only when SH degree > 0)
// Gaussian i belongs to chunk i / 256; each value is a fraction of its chunk's [min, max]:
//   packed_position / packed_scale: x 11 bits (31..21), y 10 bits (20..11), z 11 bits (10..0)
//   packed_color: r, g, b 8 bits each (31..8) of colour 0.5 + C0 f_dc over the chunk's
//                 min_r..max_b (or of [0, 1] when the chunk has no colour range), then
//                 sigmoid(opacity) in 8 bits (7..0)
//   packed_rotation: smallest three of the unit quaternion (rot_0..rot_3 = w, x, y, z):
//                 index of the largest in bits 31..30, then the other three in index
//                 order, 10 bits each of v / sqrt(2) + 0.5
//   sh: f_rest / 8 + 0.5 in 8 bits; code 0 is -4, 255 is +4, code c is ((c + 0.5) / 256 - 0.5) x 8
// Coordinates are the PLY's (no change). SH bands that are all zero are not written (the
// codes have no zero: 0 would come back as +-1/64). The writer sorts the Gaussians in Morton order of
// their positions so that chunks are compact (small ranges, fine steps). Quantization
// bounds and sizes: docs/export.md.
#include <cstddef>
#include <string>
#include <vector>

#include "engine/io/ply.h"
#include "engine/model/gaussian_model.h"

namespace sp {

// Morton (Z-order) of the positions on a 1024^3 grid over their bounding box: the order the
// writer stores Gaussians in; ties keep the model's order.
std::vector<size_t> compressed_ply_order(const GaussianModel& model);

// Whether a parsed PLY has the compressed layout (elements chunk and vertex with
// packed_position), so the Gaussian PLY reader hands it here.
bool is_compressed_ply(const ply::Header& header);

std::string encode_compressed_ply(const GaussianModel& model);
// BadInput naming `where` unless the layout is as above: properties present with the right
// types (packed_* uint, sh uchar), ceil(N / 256) chunks, sh rows matching the vertices.
GaussianModel decode_compressed_ply(const ply::PlyData& data, const std::string& where);
GaussianModel decode_compressed_ply_bytes(std::string bytes, const std::string& where);

void write_compressed_ply(const std::string& path, const GaussianModel& model);  // atomically

}  // namespace sp
