// sparsplat export: a model in the formats web viewers and SuperSplat load (.splat, .spz,
// .compressed.ply) or back to INRIA PLY; the output's extension picks the format
// (engine/io/model_file.h, docs/export.md).
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "engine/core/error.h"
#include "engine/core/log.h"
#include "engine/io/model_file.h"
#include "tools/sparsplat/commands.h"

namespace sp::cli {
namespace fs = std::filesystem;

int run_export(const ExportArgs& args) {
  // Everything that can be refused is checked before the model is read or a file is written.
  const std::optional<ModelFormat> format = model_format_of_path(args.output);
  if (!format) {
    const std::string ext = fs::path(args.output).extension().string();
    throw_bad_input(args.output, "unknown export format '" + (ext.empty() ? std::string("(no extension)") : ext) +
                                     "' (expected .splat, .spz, .compressed.ply or .ply)");
  }
  if (args.spz_version_given && *format != ModelFormat::Spz)
    throw_bad_input("--spz-version", "applies to .spz output only (the output is " + args.output + ")");
  std::string input = args.model;
  if (fs::is_directory(input)) {
    if (!fs::is_regular_file(fs::path(input) / "point_cloud.ply"))
      throw_bad_input(input, "is a folder without point_cloud.ply (expected a model file or a recon output folder)");
    input = (fs::path(input) / "point_cloud.ply").string();
  }
  GaussianModel model = read_gaussian_model(input);
  if (args.sh_degree > model.sh_degree)
    throw_bad_input("--sh-degree", "the model stores degree " + std::to_string(model.sh_degree) + " only");
  if (args.sh_degree >= 0) model.set_sh_degree(args.sh_degree);

  // Say what the format leaves out.
  if (*format == ModelFormat::Splat && model.sh_degree > 0)
    log_warn(".splat keeps only the base colour: SH degrees 1.." + std::to_string(model.sh_degree) +
             " (view-dependent colour) are dropped");
  if (*format != ModelFormat::InriaPly && model.extra_channels > 0)
    log_warn(std::string(model_format_name(*format)) + " has no room for the model's " +
             std::to_string(model.extra_channels) + " extra channels (language codes): they are dropped");

  const fs::path parent = fs::path(args.output).parent_path();
  if (!parent.empty()) fs::create_directories(parent);
  write_gaussian_model(args.output, model, ModelWriteOptions{args.spz_version});
  const auto bytes = fs::file_size(args.output);
  const int kept_degree = *format == ModelFormat::Splat           ? 0
                          : *format == ModelFormat::CompressedPly ? model.used_sh_degree()  // zero bands left out
                                                                  : model.sh_degree;
  std::printf("exported %zu Gaussians (SH degree %d) to %s (%s): %ju bytes, %.1f per Gaussian\n", model.size(),
              kept_degree, args.output.c_str(), model_format_name(*format), uintmax_t(bytes),
              model.size() ? double(bytes) / double(model.size()) : 0.0);
  return 0;
}

}  // namespace sp::cli
