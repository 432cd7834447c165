// LLFF datasets: poses_bounds.npy (poses, intrinsics and per-view depth bounds) with photos
// in images/ or images_N/, and sparse/0's points3D when present (without tracks).
#include "engine/core/atomic_file.h"
#include "engine/io/colmap.h"
#include "engine/io/llff.h"
#include "engine/scene/format_loader.h"

namespace sp::format_loader {
namespace fs = std::filesystem;

Loaded load_llff(const std::string& root, int downscale) {
  const LlffScene s = read_llff(root, downscale);
  Loaded L;
  L.format = "llff";
  L.note = "poses from poses_bounds.npy, images from " + s.folder.name + "/";
  for (size_t i = 0; i < s.views.size(); ++i) {
    View v;
    v.camera = s.views[i].camera;
    v.path = s.image_paths[i];
    v.capture_width = s.full_width;
    v.capture_height = s.full_height;
    L.views.push_back(std::move(v));
    L.bounds.emplace_back(s.views[i].near, s.views[i].far);
  }
  // LLFF's sparse/0 holds cameras + points3D but usually no images.bin: the points cannot be
  // tied to views (has_tracks stays false).
  const std::string model_dir = find_colmap_dir(root);
  if (!model_dir.empty()) {
    for (const char* ext : {".bin", ".txt"}) {
      const fs::path p = fs::path(model_dir) / (std::string("points3D") + ext);
      if (!is_file(p)) continue;
      const std::string bytes = read_file(p.string());
      const ColmapPoints pts = std::string(ext) == ".bin" ? parse_colmap_points_bin(bytes, p.string())
                                                          : parse_colmap_points_txt(bytes, p.string());
      size_t unmapped = 0;
      L.points = colmap_points(pts, nullptr, unmapped);
      L.note += ", points from " + p.filename().string() + " (no tracks)";
      break;
    }
  }
  return L;  // split rule: the LLFF hold-out (SplitRule's default)
}

}  // namespace sp::format_loader
