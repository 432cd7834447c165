#include "engine/io/blender.h"

#include <cmath>
#include <filesystem>
#include <numbers>

#include <nlohmann/json.hpp>

#include "engine/core/atomic_file.h"
#include "engine/core/error.h"
#include "engine/io/image_header.h"

namespace sp {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// Looks a key up in the frame first, then at the top level (nerfstudio allows both).
const json* find_key(const json& frame, const json& top, const char* key) {
  if (frame.is_object()) {
    const auto it = frame.find(key);
    if (it != frame.end() && !it->is_null()) return &*it;
  }
  const auto it = top.find(key);
  if (it != top.end() && !it->is_null()) return &*it;
  return nullptr;
}

double number(const json& v, const std::string& where, const std::string& key) {
  if (!v.is_number()) throw_bad_input(where, "'" + key + "' must be a number, found " + std::string(v.type_name()));
  const double d = v.get<double>();
  if (!std::isfinite(d)) throw_bad_input(where, "'" + key + "' is not finite");
  return d;
}

bool optional_number(const json& frame, const json& top, const char* key, const std::string& where, double& out) {
  const json* v = find_key(frame, top, key);
  if (!v) return false;
  out = number(*v, where, key);
  return true;
}

std::string resolve_image(const fs::path& base, const std::string& file_path, const std::string& where, std::string& ext) {
  std::error_code ec;
  const fs::path p = (base / fs::path(file_path)).lexically_normal();
  ext.clear();
  if (fs::is_regular_file(p, ec)) return p.string();
  for (const char* e : {".png", ".jpg", ".jpeg", ".PNG", ".JPG", ".JPEG"}) {
    fs::path q = p;
    q += e;
    if (fs::is_regular_file(q, ec)) {
      ext = e;
      return q.string();
    }
  }
  throw_bad_input(where, "image '" + file_path + "' not found (looked for " + p.string() + " and with .png/.jpg/.jpeg added)");
}

}  // namespace

void set_pose_from_opengl_c2w(Camera& camera, const glm::dmat4& m) {
  glm::dmat3 c2w(m);
  c2w[1] = -c2w[1];  // y up -> y down
  c2w[2] = -c2w[2];  // z backwards -> z forward
  const glm::dmat3 R = glm::transpose(c2w);
  camera.R = glm::mat3(R);
  camera.t = glm::vec3(-(R * glm::dvec3(m[3])));
}

std::vector<TransformsFrame> parse_transforms(std::string_view text, const std::string& json_path) {
  json top;
  try {
    top = json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    throw_bad_input(json_path, std::string("not valid JSON (") + e.what() + ")");
  }
  if (!top.is_object()) throw_bad_input(json_path, "expected a JSON object at the top level");
  const auto frames_it = top.find("frames");
  if (frames_it == top.end() || !frames_it->is_array())
    throw_bad_input(json_path, "expected a 'frames' array");
  const fs::path base = fs::path(json_path).parent_path();

  std::vector<TransformsFrame> out;
  out.reserve(frames_it->size());
  size_t index = 0;
  for (const json& f : *frames_it) {
    const std::string where = json_path + ": frame " + std::to_string(index++);
    if (!f.is_object()) throw_bad_input(where, "expected an object");
    TransformsFrame fr;

    // Image file.
    const auto fp = f.find("file_path");
    if (fp == f.end() || !fp->is_string()) throw_bad_input(where, "expected a string 'file_path'");
    std::string rel = fp->get<std::string>();
    if (rel.empty()) throw_bad_input(where, "'file_path' is empty");
    std::string ext;
    fr.path = resolve_image(base, rel, where, ext);
    while (rel.rfind("./", 0) == 0) rel.erase(0, 2);
    fr.name = rel + ext;

    // Pose.
    const auto tm = f.find("transform_matrix");
    if (tm == f.end() || !tm->is_array() || (tm->size() != 4 && tm->size() != 3))
      throw_bad_input(where, "expected 'transform_matrix' as 4 (or 3) rows of 4 numbers");
    glm::dmat4 m(1.0);
    for (size_t r = 0; r < tm->size(); ++r) {
      const json& row = (*tm)[r];
      if (!row.is_array() || row.size() != 4) throw_bad_input(where, "'transform_matrix' row " + std::to_string(r) + " must hold 4 numbers");
      for (size_t c = 0; c < 4; ++c) m[int(c)][int(r)] = number(row[c], where, "transform_matrix");
    }
    const glm::dmat3 rot(m);
    const glm::dmat3 E = glm::transpose(rot) * rot;
    double err = 0;
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 3; ++c) err = std::max(err, std::abs(E[c][r] - (r == c ? 1.0 : 0.0)));
    if (err > 1e-3 || glm::determinant(rot) < 0)
      throw_bad_input(where, "the rotation part of 'transform_matrix' is not a rotation (orthonormality error " +
                                 std::to_string(err) + ", determinant " + std::to_string(glm::determinant(rot)) + ")");
    set_pose_from_opengl_c2w(fr.camera, m);

    // Image size: w/h when given, else the file's header.
    double w = 0, h = 0;
    const bool has_w = optional_number(f, top, "w", where, w), has_h = optional_number(f, top, "h", where, h);
    if (has_w != has_h) throw_bad_input(where, "'w' and 'h' must be given together");
    if (has_w) {
      if (!(w >= 1 && w <= (1 << 20) && h >= 1 && h <= (1 << 20)))
        throw_bad_input(where, "image size " + std::to_string(w) + " x " + std::to_string(h) + " is out of range");
    } else {
      const ImageInfo info = read_image_header(fr.path);
      w = info.width;
      h = info.height;
    }
    fr.camera.width = int(std::lround(w));
    fr.camera.height = int(std::lround(h));
    fr.camera.name = fr.name;

    // Intrinsics.
    double fx = 0, fy = 0, angle = 0;
    if (optional_number(f, top, "fl_x", where, fx)) {
      if (!optional_number(f, top, "fl_y", where, fy)) fy = fx;
    } else if (optional_number(f, top, "camera_angle_x", where, angle)) {
      if (!(angle > 0 && angle < std::numbers::pi)) throw_bad_input(where, "'camera_angle_x' must lie in (0, pi), found " + std::to_string(angle));
      fx = 0.5 * w / std::tan(0.5 * angle);
      double angle_y = 0;
      if (optional_number(f, top, "camera_angle_y", where, angle_y)) {
        if (!(angle_y > 0 && angle_y < std::numbers::pi)) throw_bad_input(where, "'camera_angle_y' must lie in (0, pi)");
        fy = 0.5 * h / std::tan(0.5 * angle_y);
      } else {
        fy = fx;
      }
    } else {
      throw_bad_input(where, "no intrinsics (expected 'camera_angle_x' or 'fl_x')");
    }
    if (!(fx > 0 && fy > 0)) throw_bad_input(where, "focal length must be positive");
    double cx = 0.5 * w, cy = 0.5 * h;
    optional_number(f, top, "cx", where, cx);
    optional_number(f, top, "cy", where, cy);
    fr.camera.fx = float(fx);
    fr.camera.fy = float(fy);
    fr.camera.cx = float(cx);
    fr.camera.cy = float(cy);

    // Distortion (nerfstudio).
    if (const json* model = find_key(f, top, "camera_model")) {
      if (!model->is_string()) throw_bad_input(where, "'camera_model' must be a string");
      const std::string name = model->get<std::string>();
      if (name != "OPENCV" && name != "PINHOLE" && name != "SIMPLE_PINHOLE")
        throw_bad_input(where, "camera_model '" + name + "' is not supported (expected OPENCV or PINHOLE)");
    }
    Distortion& d = fr.distortion;
    optional_number(f, top, "k1", where, d.k1);
    optional_number(f, top, "k2", where, d.k2);
    optional_number(f, top, "p1", where, d.p1);
    optional_number(f, top, "p2", where, d.p2);
    optional_number(f, top, "k3", where, d.k3);
    double k4 = 0;
    if (optional_number(f, top, "k4", where, k4) && k4 != 0)
      throw_bad_input(where, "'k4' is set: fisheye distortion is not supported");
    if (d.k3 != 0) d.model = Distortion::Model::FullOpenCV;
    else if (d.k1 != 0 || d.k2 != 0 || d.p1 != 0 || d.p2 != 0) d.model = Distortion::Model::OpenCV;
    out.push_back(std::move(fr));
  }
  return out;
}

std::vector<TransformsFrame> read_transforms(const std::string& json_path) {
  return parse_transforms(read_file(json_path), json_path);
}

}  // namespace sp
