#include "engine/language/feature_maps.h"

#include <cmath>
#include <filesystem>

#include "engine/core/error.h"
#include "engine/io/npy.h"

namespace sp {

namespace fs = std::filesystem;

std::string feature_file(const std::string& dir, const std::string& image_name) {
  return (fs::path(dir) / (fs::path(image_name).stem().string() + "_f.npy")).string();
}
std::string segment_file(const std::string& dir, const std::string& image_name) {
  return (fs::path(dir) / (fs::path(image_name).stem().string() + "_s.npy")).string();
}

LanguageTargets load_language_targets(const std::string& dir, const std::string& image_name, int width, int height) {
  const std::string ff = feature_file(dir, image_name), sf = segment_file(dir, image_name);
  if (!fs::exists(ff)) throw_bad_input(ff, "language feature file not found (LangSplat layout: <image stem>_f.npy)");
  if (!fs::exists(sf)) throw_bad_input(sf, "segment map file not found (LangSplat layout: <image stem>_s.npy)");
  const NpyArray f = read_npy(ff);
  if (f.ndim() != 2 || f.shape[1] == 0) throw_bad_input(ff, "expected a [N, D] feature array");
  const NpyArray s = read_npy(sf);
  if (s.ndim() != 3 || s.shape[0] < 1 || s.shape[0] > 4 || s.shape[1] == 0 || s.shape[2] == 0)
    throw_bad_input(sf, "expected a [P, H, W] segment array with 1 <= P <= 4");

  LanguageTargets t;
  t.width = width;
  t.height = height;
  t.dims = int(f.shape[1]);
  const size_t rows = f.shape[0], D = f.shape[1];
  t.features.resize(rows * D);
  for (size_t r = 0; r < rows; ++r) {
    double n2 = 0;
    for (size_t d = 0; d < D; ++d) {
      const double v = f.data[r * D + d];
      if (!std::isfinite(v)) throw_bad_input(ff, "row " + std::to_string(r) + " holds a non-finite value");
      n2 += v * v;
    }
    if (n2 <= 0) throw_bad_input(ff, "row " + std::to_string(r) + " is all zeros (a feature needs a direction)");
    const double inv = 1.0 / std::sqrt(n2);
    for (size_t d = 0; d < D; ++d) t.features[r * D + d] = float(f.data[r * D + d] * inv);
  }

  const size_t P = s.shape[0], H = s.shape[1], W = s.shape[2];
  t.segments.assign(3, std::vector<int>(size_t(width) * height, -1));
  for (size_t p = 1; p < P; ++p) {
    std::vector<int>& dst = t.segments[p - 1];
    for (int y = 0; y < height; ++y) {
      const size_t sy = std::min(H - 1, size_t((double(y) + 0.5) * double(H) / double(height)));
      for (int x = 0; x < width; ++x) {
        const size_t sx = std::min(W - 1, size_t((double(x) + 0.5) * double(W) / double(width)));
        const double v = s.data[(p * H + sy) * W + sx];
        if (!(v >= -1.0 && v < double(rows)) || v != std::floor(v))
          throw_bad_input(sf, "plane " + std::to_string(p) + " holds id " + std::to_string(v) + " outside [-1, " +
                                  std::to_string(rows) + ")");
        dst[size_t(y) * width + x] = int(v);
      }
    }
  }
  return t;
}

void write_language_targets(const std::string& dir, const std::string& image_name, const std::vector<float>& features,
                            int dims, const std::vector<float>& planes, int plane_count, int width, int height) {
  fs::create_directories(dir);
  write_npy(feature_file(dir, image_name), {features.size() / size_t(dims), size_t(dims)}, features.data());
  write_npy(segment_file(dir, image_name), {size_t(plane_count), size_t(height), size_t(width)}, planes.data());
}

}  // namespace sp
