#include "engine/io/spare.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>

#include "engine/core/atomic_file.h"
#include "engine/core/error.h"
#include "engine/core/log.h"
#include "engine/io/image_header.h"
#include "engine/io/text_fields.h"

namespace sp {
namespace fs = std::filesystem;

// ---- projection matrices ----

ProjectionMatrix parse_projection_matrix(std::string_view text, const std::string& where) {
  detail::TextLines lines(text, where);
  ProjectionMatrix P{};
  size_t n = 0;
  std::string_view line;
  while (lines.next(line)) {
    if (detail::is_blank_or_comment(line)) continue;
    for (std::string_view f : detail::split_fields(line)) {
      if (n == 12) lines.fail("more than 12 numbers (expected a 3x4 projection matrix)");
      P[n] = detail::parse_field<double>(f, lines, "P[" + std::to_string(n / 4) + "][" + std::to_string(n % 4) + "]");
      ++n;
    }
  }
  if (n != 12)
    throw_bad_input(where, "expected 12 numbers (a 3x4 projection matrix), found " + std::to_string(n));
  return P;
}

ProjectionMatrix read_projection_matrix(const std::string& path) { return parse_projection_matrix(read_file(path), path); }

std::string encode_projection_matrix(const ProjectionMatrix& P) {
  std::string s;
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 4; ++c) {
      char buf[40];
      const auto res = std::to_chars(buf, buf + sizeof buf, P[size_t(r * 4 + c)]);
      if (c) s += ' ';
      s.append(buf, res.ptr);
    }
    s += '\n';
  }
  return s;
}

ProjectionMatrix compose_projection(const glm::dmat3& K, const glm::dmat3& R, const glm::dvec3& t) {
  ProjectionMatrix P{};
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) {
      double v = 0;
      for (int k = 0; k < 3; ++k) v += K[k][r] * R[c][k];
      P[size_t(r * 4 + c)] = v;
    }
    double v = 0;
    for (int k = 0; k < 3; ++k) v += K[k][r] * t[k];
    P[size_t(r * 4 + 3)] = v;
  }
  return P;
}

Camera camera_from_projection(const DecomposedProjection& d, const std::string& name, int width, int height,
                              const std::string& where) {
  Camera c;
  c.name = name;
  c.width = width;
  c.height = height;
  c.fx = float(d.K[0][0]);
  c.fy = float(d.K[1][1]);
  c.cx = float(d.K[2][0]);
  c.cy = float(d.K[2][1]);
  if (std::abs(d.K[1][0]) > 1e-6 * d.K[0][0])
    log_debug(where + ": skew " + std::to_string(d.K[1][0]) + " of K dropped (the engine's cameras have none)");
  c.R = glm::mat3(d.R);
  c.t = glm::vec3(d.t);
  return c;
}

DecomposedProjection decompose_projection(const ProjectionMatrix& Pin, const std::string& where) {
  for (double v : Pin)
    if (!std::isfinite(v)) throw_bad_input(where, "projection matrix has a non-finite entry");
  ProjectionMatrix P = Pin;
  // Rows of the left block M.
  auto row = [&](int r) { return glm::dvec3(P[size_t(r * 4)], P[size_t(r * 4 + 1)], P[size_t(r * 4 + 2)]); };
  const double det = glm::dot(row(0), glm::cross(row(1), row(2)));
  const double scale = glm::length(row(0)) * glm::length(row(1)) * glm::length(row(2));
  if (!(std::abs(det) > 1e-12 * scale) || !(scale > 0))
    throw_bad_input(where, "projection matrix is singular (its left 3x3 block has determinant " + std::to_string(det) + ")");
  if (det < 0)
    for (double& v : P) v = -v;
  // RQ by Gram-Schmidt from the last row up: m3 = k33 r3, m2 = k22 r2 + k23 r3,
  // m1 = k11 r1 + k12 r2 + k13 r3 (K upper triangular, rows r_i of R orthonormal).
  const glm::dvec3 m1 = row(0), m2 = row(1), m3 = row(2);
  const double k33 = glm::length(m3);
  const glm::dvec3 r3 = m3 / k33;
  const double k23 = glm::dot(m2, r3);
  glm::dvec3 u2 = m2 - k23 * r3;
  const double k22 = glm::length(u2);
  const glm::dvec3 r2 = u2 / k22;
  const double k13 = glm::dot(m1, r3);
  glm::dvec3 u1 = m1 - k13 * r3;
  const double k12 = glm::dot(u1, r2);
  u1 -= k12 * r2;
  const double k11 = glm::length(u1);
  const glm::dvec3 r1 = u1 / k11;

  DecomposedProjection d;
  // K (GLM column-major: K[col][row]), normalized so K[2][2] = 1.
  glm::dmat3 K(0.0);
  K[0][0] = k11;
  K[1][0] = k12;
  K[2][0] = k13;
  K[1][1] = k22;
  K[2][1] = k23;
  K[2][2] = k33;
  for (int c = 0; c < 3; ++c)
    for (int r = 0; r < 3; ++r) d.K[c][r] = K[c][r] / k33;
  for (int c = 0; c < 3; ++c) {
    d.R[c][0] = r1[c];
    d.R[c][1] = r2[c];
    d.R[c][2] = r3[c];
  }
  // t = K^-1 p4 (unnormalized K), by back substitution.
  const glm::dvec3 p4(P[3], P[7], P[11]);
  const double t3 = p4.z / k33;
  const double t2 = (p4.y - k23 * t3) / k22;
  const double t1 = (p4.x - k12 * t2 - k13 * t3) / k11;
  d.t = glm::dvec3(t1, t2, t3);
  return d;
}

// ---- split files ----

std::map<std::string, SpareSplit> parse_spare_split(std::string_view text, const std::string& where) {
  using json = nlohmann::json;
  json top;
  try {
    top = json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    throw_bad_input(where, std::string("not valid JSON (") + e.what() + ")");
  }
  if (!top.is_object()) throw_bad_input(where, "expected an object {scene: {input_views, test_views, dataset}}");
  std::map<std::string, SpareSplit> out;
  for (auto it = top.begin(); it != top.end(); ++it) {
    const std::string scene = it.key();
    const json& v = it.value();
    if (!v.is_object())
      throw_bad_input(where, "scene '" + scene + "': expected an object with input_views and test_views");
    SpareSplit s;
    const auto ids = [&](const char* key, std::vector<int>& dst) {
      if (!v.contains(key)) throw_bad_input(where, "scene '" + scene + "': missing \"" + key + "\"");
      const json& a = v.at(key);
      if (!a.is_array()) throw_bad_input(where, "scene '" + scene + "': \"" + key + "\" must be a list of view indices");
      std::set<int> seen;
      for (const json& e : a) {
        if (!e.is_number_integer() || e.get<long long>() < 0 || e.get<long long>() > 1000000)
          throw_bad_input(where, "scene '" + scene + "': \"" + key + "\" holds " + e.dump() +
                                     " (expected 0-based view indices)");
        const int id = int(e.get<long long>());
        if (!seen.insert(id).second)
          throw_bad_input(where, "scene '" + scene + "': \"" + key + "\" lists view " + std::to_string(id) + " twice");
        dst.push_back(id);
      }
    };
    ids("input_views", s.input_views);
    ids("test_views", s.test_views);
    for (int id : s.input_views)
      if (std::find(s.test_views.begin(), s.test_views.end(), id) != s.test_views.end())
        throw_bad_input(where, "scene '" + scene + "': view " + std::to_string(id) + " is both an input and a test view");
    if (v.contains("dataset")) {
      if (!v.at("dataset").is_string()) throw_bad_input(where, "scene '" + scene + "': \"dataset\" must be a string");
      s.dataset = v.at("dataset").get<std::string>();
    }
    out[scene] = std::move(s);
  }
  return out;
}

std::map<std::string, SpareSplit> read_spare_split(const std::string& path) { return parse_spare_split(read_file(path), path); }

std::string encode_spare_split(const std::map<std::string, SpareSplit>& scenes) {
  nlohmann::ordered_json top = nlohmann::ordered_json::object();
  for (const auto& [name, s] : scenes) {
    nlohmann::ordered_json j;
    j["input_views"] = s.input_views;
    j["test_views"] = s.test_views;
    j["dataset"] = s.dataset;
    top[name] = j;
  }
  return top.dump(2) + "\n";
}

// ---- names ----

namespace {

// Parses exactly `digits`+ decimal digits starting at s[pos]; advances pos.
bool read_number(const std::string& s, size_t& pos, int& value) {
  const size_t start = pos;
  while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
  if (pos == start || pos - start > 6) return false;
  value = std::stoi(s.substr(start, pos - start));
  return true;
}

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

std::string three_digits(int v) {
  std::string s = std::to_string(v);
  return s.size() < 3 ? std::string(3 - s.size(), '0') + s : s;
}

}  // namespace

bool parse_spare_image_name(const std::string& name, int& number, int& lighting) {
  size_t pos = 0;
  std::string suffix;
  if (name.rfind("cam_", 0) == 0) {
    pos = 4;
    suffix = "_0000.png";
  } else if (name.rfind("rect_", 0) == 0) {
    pos = 5;
    suffix = "_r5000.png";
  } else {
    return false;
  }
  int n = 0, l = 0;
  if (!read_number(name, pos, n) || pos >= name.size() || name[pos] != '_') return false;
  ++pos;
  if (!read_number(name, pos, l)) return false;
  if (name.compare(pos, std::string::npos, suffix) != 0) return false;
  if (n < 1) return false;
  number = n;
  lighting = l;
  return true;
}

bool parse_spare_pos_name(const std::string& name, int& number) {
  if (name.rfind("pos_", 0) != 0) return false;
  size_t pos = 4;
  int n = 0;
  if (!read_number(name, pos, n) || name.compare(pos, std::string::npos, ".txt") != 0 || n < 1) return false;
  number = n;
  return true;
}

std::string spare_image_name(int view, int lighting) {
  return "cam_" + three_digits(view + 1) + "_" + std::to_string(lighting) + "_0000.png";
}
std::string spare_pos_name(int view) { return "pos_" + three_digits(view + 1) + ".txt"; }
std::string spare_mask_name(int view) { return three_digits(view) + ".png"; }

// ---- scenes ----

namespace {

// The folder holding pos_XXX.txt files: dir, dir/Cameras or dir/cameras; "" when none.
std::string pos_dir(const std::string& dir) {
  for (const fs::path& p : {fs::path(dir), fs::path(dir) / "Cameras", fs::path(dir) / "cameras"}) {
    std::error_code ec;
    if (!fs::is_directory(p, ec)) continue;
    for (fs::directory_iterator it(p, ec), end; !ec && it != end; it.increment(ec)) {
      int n = 0;
      if (parse_spare_pos_name(it->path().filename().string(), n) && is_file(it->path())) return p.string();
    }
  }
  return {};
}

}  // namespace

bool looks_like_spare_scene(const std::string& dir) { return !pos_dir(dir).empty(); }

std::string find_spare_scene_dir(const std::string& dir) {
  if (looks_like_spare_scene(dir)) return dir;
  const fs::path split = fs::path(dir) / "split.json";
  if (!is_file(split)) return {};
  const auto scenes = read_spare_split(split.string());
  if (scenes.size() != 1) return {};
  const fs::path scene = fs::path(dir) / scenes.begin()->first;
  return looks_like_spare_scene(scene.string()) ? scene.string() : std::string();
}

SpareScene read_spare_scene(const std::string& dir_in, int lighting) {
  SpareScene s;
  s.dir = dir_in;
  fs::path dir(dir_in);
  // The scene's name is its folder's name ("out/demo/" and "out/demo/." name "demo").
  fs::path abs = fs::absolute(dir).lexically_normal();
  if (abs.filename().empty()) abs = abs.parent_path();
  s.name = abs.filename().string();
  const std::string cams = pos_dir(dir_in);
  if (cams.empty()) throw_bad_input(dir_in, "no pos_XXX.txt camera files (expected a DTU/SpaRe scene folder)");

  // Images by lighting: number -> file name.
  std::map<int, std::map<int, std::string>> by_lighting;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    int n = 0, l = 0;
    const std::string f = it->path().filename().string();
    if (parse_spare_image_name(f, n, l) && is_file(it->path())) {
      auto& slot = by_lighting[l][n];
      if (slot.empty() || f < slot) slot = f;  // both namings present: the smaller name (cam_) wins
    }
  }
  if (ec) throw_bad_input(dir_in, "cannot list the folder (" + ec.message() + ")");
  if (by_lighting.empty())
    throw_bad_input(dir_in, "no images named cam_XXX_L_0000.png (SpaRe) or rect_XXX_L_r5000.png (DTU)");
  for (const auto& [l, files] : by_lighting) s.lightings.push_back(l);
  if (lighting >= 0) {
    if (!by_lighting.count(lighting))
      throw_bad_input(dir_in, "no images of lighting " + std::to_string(lighting) + " (found lighting " +
                                  std::to_string(s.lightings.front()) + (s.lightings.size() > 1 ? ", ..." : "") + ")");
    s.lighting = lighting;
  } else {
    s.lighting = by_lighting.count(3) ? 3 : s.lightings.front();
  }
  const auto& files = by_lighting.at(s.lighting);
  int expect = 1;
  for (const auto& [n, f] : files) {
    if (n != expect)
      throw_bad_input((dir / f).string(), "image numbers of lighting " + std::to_string(s.lighting) +
                                              " must run 1..n without gaps (view i <-> file number i + 1); number " +
                                              three_digits(expect) + " is missing");
    ++expect;
  }

  // Mask folder (IDR/NeuS DTU naming: mask/000.png for view 0).
  const fs::path mask_dir = dir / "mask";
  for (const auto& [n, f] : files) {
    SpareView v;
    const int view = n - 1;
    v.image_path = (dir / f).string();
    v.pos_path = (fs::path(cams) / spare_pos_name(view)).string();
    if (!is_file(v.pos_path))
      throw_bad_input(v.pos_path, "missing: image " + f + " (view " + std::to_string(view) + ") needs its camera file");
    const DecomposedProjection d = decompose_projection(read_projection_matrix(v.pos_path), v.pos_path);
    const ImageInfo info = read_image_header(v.image_path);
    v.camera = camera_from_projection(d, f, info.width, info.height, v.pos_path);
    const fs::path m = mask_dir / spare_mask_name(view);
    if (is_file(m)) v.mask_path = m.string();
    s.views.push_back(std::move(v));
  }

  // Split file: split.json in the scene folder, else in its parent.
  for (const fs::path& p : {dir / "split.json", abs.parent_path() / "split.json"}) {
    if (!is_file(p)) continue;
    const auto scenes = read_spare_split(p.string());
    const auto it = scenes.find(s.name);
    if (it == scenes.end()) {
      log_warn(p.string() + ": no entry for scene '" + s.name + "'; not using it");
      continue;
    }
    const int n = int(s.views.size());
    for (const auto* list : {&it->second.input_views, &it->second.test_views})
      for (int id : *list)
        if (id >= n)
          throw_bad_input(p.string(), "scene '" + s.name + "': view " + std::to_string(id) +
                                          " is out of range (the scene has " + std::to_string(n) + " views, 0.." +
                                          std::to_string(n - 1) + ")");
    s.has_split = true;
    s.split = it->second;
    s.split_file = p.string();
    break;
  }
  return s;
}

}  // namespace sp
