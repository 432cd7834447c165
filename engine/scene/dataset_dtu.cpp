// DTU in IDR/NeuS layout: images/000000.png... (image i = DTU view i, by sorted name),
// mask/{i:03d}.png (found by Dataset::load's mask search), and cameras_sphere.npz (NeuS) or
// cameras.npz (IDR) holding per view world_mat_i (4x4 or 3x4; its top 3x4 block is
// P = K [R | t]) and optionally scale_mat_i. As IDR/NeuS do, the cameras are taken in the
// normalized frame: P = (world_mat_i @ scale_mat_i)[:3, :4], where scale_mat_i maps the unit
// sphere onto the object's bounding sphere in DTU's world frame; so the object lies inside the
// unit sphere (x_dtu = scale_mat @ x_normalized) and every camera outside it. Without
// scale_mat_i the frame is DTU's own. P is decomposed by decompose_projection
// (engine/io/spare.h). The scene's sparse/0 (a COLMAP conversion, other frame) is not used: no
// SfM points, random init; the unit sphere gives each view's depth bounds (|C| - 1, |C| + 1).
// Split rule: DTU's sparse-view protocol with 49+ views, else the LLFF hold-out.
#include <array>
#include <cmath>
#include <map>

#include "engine/core/error.h"
#include "engine/core/log.h"
#include "engine/io/image_folder.h"
#include "engine/io/image_header.h"
#include "engine/io/npy.h"
#include "engine/scene/format_loader.h"

namespace sp::format_loader {
namespace fs = std::filesystem;

std::string find_idr_cameras(const std::string& root) {
  std::error_code ec;
  if (!fs::is_directory(fs::path(root) / "images", ec)) return {};
  for (const char* name : {"cameras_sphere.npz", "cameras.npz"})
    if (const fs::path p = fs::path(root) / name; is_file(p)) return p.string();
  return {};
}

namespace {

// matrix_key (e.g. "world_mat_3") of the archive as a row-major 4x4 (a 3x4 array gets the row
// [0 0 0 1]). BadInput naming the archive when it is absent (unless `optional`), has another
// shape, or a non-finite entry. Returns false for an absent optional matrix.
bool idr_matrix(const std::map<std::string, NpyArray>& npz, const std::string& key, const std::string& where,
                bool optional, std::array<double, 16>& m) {
  const auto it = npz.find(key);
  if (it == npz.end()) {
    if (optional) return false;
    throw_bad_input(where, key + " is missing (every view needs its projection matrix)");
  }
  const NpyArray& a = it->second;
  const bool shape_ok = a.ndim() == 2 && (a.shape[0] == 4 || a.shape[0] == 3) && a.shape[1] == 4;
  if (!shape_ok) {
    std::string shape;
    for (size_t d : a.shape) {
      if (!shape.empty()) shape += 'x';
      shape += std::to_string(d);
    }
    throw_bad_input(where, key + " has shape " + (shape.empty() ? "()" : shape) + " (expected 4x4 or 3x4)");
  }
  m = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  for (size_t i = 0; i < a.size(); ++i) {
    if (!std::isfinite(a.data[i])) throw_bad_input(where, key + " has a non-finite entry");
    m[i] = a.data[i];
  }
  return true;
}

}  // namespace

Loaded load_dtu(const std::string& root, const std::string& cameras_file) {
  Loaded L;
  L.format = "dtu";
  L.split_rule.kind = SplitRule::Kind::dtu_when_49;
  const std::map<std::string, NpyArray> npz = read_npz(cameras_file);
  const fs::path image_dir = fs::path(root) / "images";
  const std::vector<std::string> files = list_image_files(image_dir.string());
  if (files.empty()) throw_bad_input(image_dir.string(), "no images (expected images/000000.png...)");
  size_t scaled = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    const std::string index = std::to_string(i);
    const std::string where = cameras_file + " (view " + index + ", " + files[i] + ")";
    std::array<double, 16> W{}, S{};
    idr_matrix(npz, "world_mat_" + index, where, false, W);
    if (idr_matrix(npz, "scale_mat_" + index, where, true, S)) {
      ++scaled;
    } else {
      S = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
    }
    ProjectionMatrix P{};
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 4; ++c) {
        double v = 0;
        for (int k = 0; k < 4; ++k) v += W[size_t(r * 4 + k)] * S[size_t(k * 4 + c)];
        P[size_t(r * 4 + c)] = v;
      }
    const DecomposedProjection d = decompose_projection(P, where);
    View v;
    v.path = (image_dir / files[i]).string();
    const ImageInfo info = read_image_header(v.path);
    v.camera = camera_from_projection(d, files[i], info.width, info.height, where);
    const double dist = glm::length(-glm::transpose(d.R) * d.t);
    L.bounds.emplace_back(float(std::max(dist - 1.0, 0.01 * dist)), float(dist + 1.0));
    L.views.push_back(std::move(v));
  }
  if (scaled != 0 && scaled != files.size())
    throw_bad_input(cameras_file, std::to_string(scaled) + " of the " + std::to_string(files.size()) +
                                      " views have a scale_mat_i (expected all or none)");
  if (scaled == 0) L.bounds.clear();  // DTU's own frame: the unit sphere says nothing
  if (npz.count("world_mat_" + std::to_string(files.size())))
    log_warn(cameras_file + ": holds more world_mat_i than images/ has images (" + std::to_string(files.size()) +
             "); the extra cameras are ignored");
  L.note = "DTU (IDR/NeuS) cameras from " + fs::path(cameras_file).filename().string() +
           (scaled ? " in the normalized frame (world_mat @ scale_mat: object inside the unit sphere)"
                   : " in DTU's frame (no scale_mat_i)");
  return L;
}

}  // namespace sp::format_loader
