#pragma once
// Niantic's .spz (github.com/nianticlabs/spz, README "File Format" and src/cc/load-spz.cc,
// read for the layout): a gzip stream of a 16-byte little-endian header
//   uint32 magic 0x5053474e ("NGSP"), uint32 version (2 or 3), uint32 numPoints,
//   uint8 shDegree, uint8 fractionalBits, uint8 flags (0x1 antialiased), uint8 reserved (0)
// followed by one array per attribute, each over all Gaussians in order:
//   positions  3 x 24-bit signed fixed point, fractionalBits fractional bits (we write 12,
//              fewer when a coordinate needs it)
//   alphas     uint8 sigmoid(opacity) x 255
//   colours    3 x uint8 f_dc x 0.15 x 255 + 127.5 (a wider range than 0.5 + C0 f_dc)
//   scales     3 x uint8 (log-scale + 10) x 16
//   rotations  v3: uint32 "smallest three" of the unit quaternion (x, y, z, w): index of the
//              largest in bits 30..31, the others as sign bit + 9-bit magnitude / sqrt(1/2);
//              v2: 3 x uint8 x, y, z of the quaternion with w >= 0, x 127.5 + 127.5
//   sh         per Gaussian (degree+1)^2-1 coefficients x RGB (RGB innermost), uint8
//              x 128 + 128, rounded to 5 bits for degree 1 and 4 bits for degrees 2-3
//              (Niantic's defaults: coarser steps compress better, every reader decodes them)
//
// Coordinates: SPZ stores right-up-back (RUB, OpenGL/three.js); our models and INRIA PLY
// files are right-down-front (RDF, OpenCV/COLMAP). The writer maps RDF -> RUB and the reader
// RUB -> RDF with the same 180-degree turn about x: (x, y, z) -> (x, -y, -z), quaternion
// (w, x, y, z) -> (w, x, -y, -z), and each SH coefficient times the sign its basis function
// takes under that turn (spz_sh_flip). Quantization bounds and sizes: docs/export.md.
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/model/gaussian_model.h"

namespace sp {

struct SpzOptions {
  int version = 3;  // 2 (3-byte rotations, the older readers) or 3 (smallest-three rotations)
};

// What a file's header said, for `sparsplat info`.
struct SpzHeaderInfo {
  uint32_t version = 0;
  uint32_t points = 0;
  int sh_degree = 0;        // as stored (degree 4 is read as 3: the band is dropped)
  int fractional_bits = 0;
  bool antialiased = false; // trained with mip-splatting's filter, which this engine does not render
};

// Sign of SH coefficient k (1..15, our order) under (x, y, z) -> (x, -y, -z).
float spz_sh_flip(int k);

// The file's bytes (gzip). BadInput for a version other than 2 or 3, or a coordinate beyond
// +-2^23 (no fixed-point scale can hold it).
std::string encode_spz(const GaussianModel& model, const SpzOptions& options = {});
// Decodes a file's bytes (`where` names them in errors). BadInput for anything but a
// complete gzip stream of a v2/v3 header and exactly the arrays its numPoints and shDegree
// call for; numPoints is checked against what the compressed size can hold before anything
// is allocated. Files using SPZ extensions (flag 0x2) or the newer NGSP container (v4) are
// refused with a message saying so.
GaussianModel decode_spz(std::string_view bytes, const std::string& where, SpzHeaderInfo* info = nullptr);

void write_spz(const std::string& path, const GaussianModel& model, const SpzOptions& options = {});  // atomically
GaussianModel read_spz(const std::string& path, SpzHeaderInfo* info = nullptr);

}  // namespace sp
