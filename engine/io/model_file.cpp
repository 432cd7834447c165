#include "engine/io/model_file.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "engine/core/atomic_file.h"
#include "engine/core/error.h"
#include "engine/io/compressed_ply.h"
#include "engine/io/gaussian_ply.h"
#include "engine/io/ply.h"
#include "engine/io/splat_file.h"
#include "engine/io/spz_file.h"

namespace sp {

namespace {

constexpr const char* kKnownFormats = ".ply, .compressed.ply, .spz or .splat";

bool ends_with_ci(const std::string& s, const std::string& suffix) {
  if (s.size() < suffix.size()) return false;
  return std::equal(suffix.begin(), suffix.end(), s.end() - long(suffix.size()),
                    [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
}

GaussianModel read_ply_model(std::string bytes, const std::string& path, ModelFileInfo* info) {
  ply::ReadOptions options;
  options.read_lists = false;
  const ply::PlyData data = ply::read_ply_bytes(std::move(bytes), path, options);
  if (info) info->format = is_compressed_ply(data.header()) ? ModelFormat::CompressedPly : ModelFormat::InriaPly;
  return gaussian_model_from_ply(data, path);
}

GaussianModel read_spz_model(const std::string& bytes, const std::string& path, ModelFileInfo* info) {
  SpzHeaderInfo header;
  GaussianModel m = decode_spz(bytes, path, &header);
  if (info) {
    info->format = ModelFormat::Spz;
    info->details = "version " + std::to_string(header.version) + ", " + std::to_string(header.fractional_bits) +
                    " fractional bits" + (header.antialiased ? ", antialiased" : "");
  }
  return m;
}

}  // namespace

const char* model_format_name(ModelFormat format) {
  switch (format) {
    case ModelFormat::InriaPly: return "INRIA PLY";
    case ModelFormat::CompressedPly: return "compressed PLY";
    case ModelFormat::Spz: return "SPZ";
    case ModelFormat::Splat: return ".splat";
  }
  return "?";
}

std::optional<ModelFormat> model_format_of_path(const std::string& path) {
  const std::string name = std::filesystem::path(path).filename().string();
  if (ends_with_ci(name, ".compressed.ply")) return ModelFormat::CompressedPly;
  if (ends_with_ci(name, ".ply")) return ModelFormat::InriaPly;
  if (ends_with_ci(name, ".spz")) return ModelFormat::Spz;
  if (ends_with_ci(name, ".splat")) return ModelFormat::Splat;
  return std::nullopt;
}

GaussianModel read_gaussian_model(const std::string& path, ModelFileInfo* info) {
  if (info) *info = ModelFileInfo{};
  std::string bytes = read_file(path);
  const std::optional<ModelFormat> named = model_format_of_path(path);
  // A .splat has no magic (its first bytes are a float), so the extension decides for the
  // named formats; only other names are identified by their first bytes.
  if (named == ModelFormat::Spz) return read_spz_model(bytes, path, info);
  if (named == ModelFormat::Splat) {
    if (info) info->format = ModelFormat::Splat;
    return decode_splat(bytes, path);
  }
  if (named) return read_ply_model(std::move(bytes), path, info);
  if (bytes.starts_with("ply\n") || bytes.starts_with("ply\r\n")) return read_ply_model(std::move(bytes), path, info);
  if (bytes.size() >= 2 && uint8_t(bytes[0]) == 0x1f && uint8_t(bytes[1]) == 0x8b) return read_spz_model(bytes, path, info);
  if (bytes.starts_with("NGSP")) return read_spz_model(bytes, path, info);  // says it is SPZ v4
  throw_bad_input(path, std::string("unknown Gaussian model format (expected ") + kKnownFormats +
                            "; a file with another name must start like a PLY or an .spz)");
}

void write_gaussian_model(const std::string& path, const GaussianModel& model, const ModelWriteOptions& options) {
  const std::optional<ModelFormat> format = model_format_of_path(path);
  if (!format) {
    const std::string ext = std::filesystem::path(path).extension().string();
    throw_bad_input(path, "unknown model format '" + (ext.empty() ? std::string("(no extension)") : ext) +
                              "' (expected " + kKnownFormats + ")");
  }
  switch (*format) {
    case ModelFormat::InriaPly: write_gaussian_ply(path, model); return;
    case ModelFormat::CompressedPly: write_compressed_ply(path, model); return;
    case ModelFormat::Spz: write_spz(path, model, SpzOptions{options.spz_version}); return;
    case ModelFormat::Splat: write_splat(path, model); return;
  }
}

}  // namespace sp
