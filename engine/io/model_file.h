#pragma once
// The one entry for Gaussian model files in every format the engine reads and writes
// (docs/export.md):
//   .ply             INRIA 3DGS layout, float32, everything (engine/io/gaussian_ply.h)
//   .compressed.ply  SuperSplat's chunked 16-byte layout + 8-bit SH (engine/io/compressed_ply.h)
//   .spz             Niantic's gzip'd fixed-point layout, v2 or v3 (engine/io/spz_file.h)
//   .splat           antimatter15's 32 bytes per Gaussian, DC colour only (engine/io/splat_file.h)
// `sparsplat render`, `info`, `export` and `sparsplat-view` read through here.
#include <optional>
#include <string>

#include "engine/model/gaussian_model.h"

namespace sp {

enum class ModelFormat { InriaPly, CompressedPly, Spz, Splat };

const char* model_format_name(ModelFormat format);  // "INRIA PLY", "compressed PLY", "SPZ", ".splat"
// The format a file name asks for by its extension (case-insensitive; ".compressed.ply" before
// ".ply"); nullopt for any other.
std::optional<ModelFormat> model_format_of_path(const std::string& path);

struct ModelFileInfo {
  ModelFormat format = ModelFormat::InriaPly;
  std::string details;  // e.g. "version 3, 12 fractional bits"; empty when nothing to add
};

// Reads `path` by its extension (.ply and .compressed.ply by the PLY's content); a file with
// another extension by its first bytes (PLY, gzip = SPZ). BadInput naming the file for any
// problem, including an unknown format.
GaussianModel read_gaussian_model(const std::string& path, ModelFileInfo* info = nullptr);

struct ModelWriteOptions {
  int spz_version = 3;
};
// Writes `model` atomically in the format of `path`'s extension; BadInput for an unknown
// extension (before anything is written).
void write_gaussian_model(const std::string& path, const GaussianModel& model, const ModelWriteOptions& options = {});

}  // namespace sp
