#include "engine/io/cameras_json.h"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "engine/core/atomic_file.h"
#include "engine/core/error.h"

namespace sp {

using nlohmann::json;

namespace {

struct EntryReader {
  const std::string& path;
  const json& entry;
  size_t index;

  std::string where() const {
    std::string w = "camera " + std::to_string(index);
    const auto it = entry.find("img_name");
    if (it != entry.end() && it->is_string()) w += " (" + it->get<std::string>() + ")";
    return w;
  }
  [[noreturn]] void fail(const std::string& what) const { throw_bad_input(path, where() + ": " + what); }

  const json& field(const char* key) const {
    const auto it = entry.find(key);
    if (it == entry.end()) fail(std::string("missing \"") + key + "\"");
    return *it;
  }
  double number(const json& v, const std::string& what) const {
    if (!v.is_number()) fail(what + " is not a number (found " + v.dump() + ")");
    const double x = v.get<double>();
    if (!std::isfinite(x)) fail(what + " is not finite");
    return x;
  }
  double number(const char* key) const { return number(field(key), std::string("\"") + key + "\""); }
  int positive_int(const char* key) const {
    const double x = number(key);
    if (x != std::floor(x) || x < 1 || x > 1 << 20)
      fail(std::string("\"") + key + "\" must be a positive integer (found " + field(key).dump() + ")");
    return int(x);
  }
};

}  // namespace

std::vector<Camera> read_cameras_json(const std::string& path, std::vector<int>* ids) {
  return parse_cameras_json(read_file(path), path, ids);
}

std::vector<Camera> parse_cameras_json(std::string_view text, const std::string& path, std::vector<int>* ids) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) {
    throw_bad_input(path, std::string("not valid JSON: ") + e.what());
  }
  if (!doc.is_array()) throw_bad_input(path, "expected a JSON list of cameras (INRIA cameras.json layout)");
  std::vector<Camera> cameras;
  if (ids) ids->clear();
  for (size_t i = 0; i < doc.size(); ++i) {
    const json& entry = doc[i];
    if (!entry.is_object()) throw_bad_input(path, "camera " + std::to_string(i) + ": expected a JSON object");
    const EntryReader r{path, entry, i};
    Camera cam;
    const json& name = r.field("img_name");
    if (!name.is_string()) r.fail("\"img_name\" is not a string");
    cam.name = name.get<std::string>();
    cam.width = r.positive_int("width");
    cam.height = r.positive_int("height");
    const double fx = r.number("fx"), fy = r.number("fy");
    if (fx <= 0 || fy <= 0) r.fail("focal lengths must be positive");
    cam.fx = float(fx);
    cam.fy = float(fy);
    // No principal point in the format: the image centre, as INRIA and OpenSplat assume.
    cam.cx = 0.5f * float(cam.width);
    cam.cy = 0.5f * float(cam.height);

    const json& pos = r.field("position");
    if (!pos.is_array() || pos.size() != 3) r.fail("\"position\" must be a list of 3 numbers");
    double c[3];
    for (int k = 0; k < 3; ++k) c[k] = r.number(pos[size_t(k)], "\"position\"");
    const json& rot = r.field("rotation");
    if (!rot.is_array() || rot.size() != 3) r.fail("\"rotation\" must be a 3x3 list of rows");
    double m[3][3];  // camera-to-world, m[row][col]
    for (size_t a = 0; a < 3; ++a) {
      if (!rot[a].is_array() || rot[a].size() != 3) r.fail("\"rotation\" must be a 3x3 list of rows");
      for (size_t b = 0; b < 3; ++b) m[a][b] = r.number(rot[a][b], "\"rotation\"");
    }
    // A rotation: orthonormal rows and det +1 (tolerance for float32 round-off in writers).
    double worst = 0;
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b) {
        const double dot = m[a][0] * m[b][0] + m[a][1] * m[b][1] + m[a][2] * m[b][2];
        worst = std::max(worst, std::abs(dot - (a == b ? 1.0 : 0.0)));
      }
    const double det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
                       m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
                       m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    if (worst > 1e-3 || det < 0)
      r.fail("\"rotation\" is not a rotation matrix (max |R R^T - I| = " + std::to_string(worst) +
             ", det = " + std::to_string(det) + ")");
    // World-to-camera R = mᵀ. GLM indexes [column][row], so R[a][b] = R(b, a) = m[a][b].
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b) cam.R[a][b] = float(m[a][b]);
    // t = -R c, in double so a read-write-read cycle moves t by float round-off only.
    for (int row = 0; row < 3; ++row) cam.t[row] = float(-(m[0][row] * c[0] + m[1][row] * c[1] + m[2][row] * c[2]));

    if (ids) {
      const auto it = entry.find("id");
      if (it == entry.end()) {
        ids->push_back(int(i));
      } else {
        if (!it->is_number_integer()) r.fail("\"id\" is not an integer");
        ids->push_back(it->get<int>());
      }
    }
    cameras.push_back(std::move(cam));
  }
  return cameras;
}

void write_cameras_json(const std::string& path, const std::vector<Camera>& cameras) {
  json doc = json::array();
  for (size_t i = 0; i < cameras.size(); ++i) {
    const Camera& cam = cameras[i];
    json rotation = json::array();
    for (int a = 0; a < 3; ++a)  // row a of the camera-to-world rotation = column a of R
      rotation.push_back({double(cam.R[a][0]), double(cam.R[a][1]), double(cam.R[a][2])});
    json position = json::array();
    for (int k = 0; k < 3; ++k)  // centre = -Rᵀ t, in double
      position.push_back(-(double(cam.R[k][0]) * cam.t[0] + double(cam.R[k][1]) * cam.t[1] + double(cam.R[k][2]) * cam.t[2]));
    doc.push_back({{"id", int(i)},
                   {"img_name", cam.name},
                   {"width", cam.width},
                   {"height", cam.height},
                   {"position", position},
                   {"rotation", rotation},
                   {"fy", double(cam.fy)},
                   {"fx", double(cam.fx)}});
  }
  write_text_atomic(path, doc.dump());
}

}  // namespace sp
