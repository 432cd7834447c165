#include "engine/io/llff.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "engine/core/error.h"
#include "engine/io/image_header.h"

namespace sp {

Camera llff_row_to_camera(const double* p) {
  // p is the row-major 3x5 matrix: p[r * 5 + c].
  const auto at = [&](int r, int c) { return p[r * 5 + c]; };
  glm::dmat3 c2w;  // columns: right, down, forward in world coordinates
  for (int r = 0; r < 3; ++r) {
    c2w[0][r] = at(r, 1);   // right = LLFF column 1
    c2w[1][r] = at(r, 0);   // down  = LLFF column 0
    c2w[2][r] = -at(r, 2);  // forward = -back
  }
  const glm::dvec3 centre(at(0, 3), at(1, 3), at(2, 3));
  const glm::dmat3 R = glm::transpose(c2w);
  Camera cam;
  cam.height = int(std::lround(at(0, 4)));
  cam.width = int(std::lround(at(1, 4)));
  cam.fx = cam.fy = float(at(2, 4));
  cam.cx = 0.5f * float(cam.width);
  cam.cy = 0.5f * float(cam.height);
  cam.R = glm::mat3(R);
  cam.t = glm::vec3(-(R * centre));
  return cam;
}

std::vector<LlffView> parse_poses_bounds(const NpyArray& a, const std::string& where) {
  if (a.ndim() != 2 || a.shape[1] != 17 || a.shape[0] == 0) {
    std::string shape = "(";
    for (size_t i = 0; i < a.shape.size(); ++i) shape += (i ? ", " : "") + std::to_string(a.shape[i]);
    throw_bad_input(where, "poses_bounds has shape " + shape + ") (expected N x 17: 3x5 pose + near, far per image)");
  }
  std::vector<LlffView> views;
  for (size_t i = 0; i < a.shape[0]; ++i) {
    const double* row = a.data.data() + i * 17;
    const std::string what = "row " + std::to_string(i) + ": ";
    for (int k = 0; k < 17; ++k)
      if (!std::isfinite(row[k])) throw_bad_input(where, what + "value " + std::to_string(k) + " is not finite");
    const double h = row[4], w = row[9], f = row[14];
    if (!(h >= 1 && h <= (1 << 20) && w >= 1 && w <= (1 << 20)))
      throw_bad_input(where, what + "image size " + std::to_string(w) + " x " + std::to_string(h) + " is out of range");
    if (!(f > 0)) throw_bad_input(where, what + "focal length " + std::to_string(f) + " (expected > 0)");
    // The 3x3 block must be a rotation (orthonormal, det +1); float32 files get 1e-4 slack.
    glm::dmat3 M;
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 3; ++c) M[c][r] = row[r * 5 + c];
    const glm::dmat3 E = glm::transpose(M) * M;
    double err = 0;
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 3; ++c) err = std::max(err, std::abs(E[c][r] - (r == c ? 1.0 : 0.0)));
    if (err > 1e-4 || glm::determinant(M) < 0)
      throw_bad_input(where, what + "the 3x3 pose block is not a rotation (orthonormality error " + std::to_string(err) +
                                 ", determinant " + std::to_string(glm::determinant(M)) + ")");
    LlffView v;
    v.camera = llff_row_to_camera(row);
    v.near = float(row[15]);
    v.far = float(row[16]);
    views.push_back(v);
  }
  return views;
}

std::vector<LlffView> read_poses_bounds(const std::string& path) { return parse_poses_bounds(read_npy(path), path); }

LlffScene read_llff(const std::string& root, int downscale) {
  namespace fs = std::filesystem;
  LlffScene s;
  const std::string pb = (fs::path(root) / "poses_bounds.npy").string();
  s.views = read_poses_bounds(pb);
  s.full_width = s.views[0].camera.width;
  s.full_height = s.views[0].camera.height;
  s.folder = choose_image_folder(root, downscale);
  const auto files = list_image_files(s.folder.path);
  if (files.size() != s.views.size())
    throw_bad_input(s.folder.path, "holds " + std::to_string(files.size()) + " images but " + pb + " has " +
                                       std::to_string(s.views.size()) + " rows (expected one image per row)");
  for (const auto& f : files) s.image_paths.push_back((fs::path(s.folder.path) / f).string());
  const ImageInfo info = read_image_header(s.image_paths[0]);
  const double sx = double(info.width) / s.full_width, sy = double(info.height) / s.full_height;
  if (std::abs(sx - sy) > 0.02 * std::max(sx, sy))
    throw_bad_input(s.image_paths[0], "image is " + std::to_string(info.width) + "x" + std::to_string(info.height) + " but " +
                                          pb + " names " + std::to_string(s.full_width) + "x" +
                                          std::to_string(s.full_height) + " (a different aspect ratio)");
  for (size_t i = 0; i < s.views.size(); ++i) {
    Camera& c = s.views[i].camera;
    c = c.resized(info.width, info.height);
    c.name = files[i];
  }
  return s;
}

}  // namespace sp
