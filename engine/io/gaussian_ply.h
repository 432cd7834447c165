#pragma once
// GaussianModel <-> PLY in INRIA 3DGS's layout, so other tools (INRIA viewers, SuperSplat,
// gsplat, OpenSplat, nvpro's viewer) open our files and we open theirs. One element
// "vertex" with one float property per value, in this order:
//   x y z  nx ny nz (always 0)  f_dc_0..2  f_rest_0..3(K-1)-1  opacity  scale_0..2  rot_0..3
//   f_extra_0..E-1   (ours: extra per-Gaussian channels; other tools ignore them)
// f_rest is channel-major in the file (coefficient k >= 1 of channel c is
// f_rest[c*(K-1) + k-1]) while GaussianModel::sh is coefficient-major, RGB innermost; the
// functions below convert. opacity is the logit, scale_* the log-scale, rot_* the
// quaternion w, x, y, z, exactly as stored in GaussianModel (no activation applied).
#include <string>

#include "engine/model/gaussian_model.h"

namespace sp {

namespace ply {
class PlyData;
}

// Reads a Gaussian PLY (any PLY format the generic reader accepts; property order and
// value type are free, names are not). The SH degree comes from the number of f_rest
// properties: 0, 9, 24, 45 -> degree 0..3. BadInput naming the file for a missing
// property, an unexpected f_rest count, or a non-finite value. A SuperSplat compressed PLY
// (elements chunk + vertex with packed_*; engine/io/compressed_ply.h) is read too.
// Any format by extension or content: read_gaussian_model (engine/io/model_file.h).
GaussianModel read_gaussian_ply(const std::string& path);
// The same from a parsed PLY; `where` names it in errors.
GaussianModel gaussian_model_from_ply(const ply::PlyData& data, const std::string& where);

// Writes binary_little_endian 1.0, atomically (temporary file + rename). Internal error
// if the model's arrays are inconsistent or hold NaN/Inf (such a file could not be read
// back).
void write_gaussian_ply(const std::string& path, const GaussianModel& model);

}  // namespace sp
