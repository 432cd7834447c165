#include "engine/synth/scene_file.h"

#include <cmath>
#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>

#include "engine/core/atomic_file.h"
#include "engine/core/error.h"
#include "engine/core/rng.h"

namespace sp::synth {
namespace fs = std::filesystem;
using json = nlohmann::json;

std::vector<LightingSetup> default_lighting_setups() {
  // Seven set-ups as DTU's seven LED configurations: the key light swings around the
  // object and dims towards the ends; L = 3 is the reference (the benchmark evaluates it).
  return {
      {-75, 0.80, 1.3}, {-50, 0.90, 1.15}, {-25, 0.95, 1.0}, {0, 1.0, 1.0},
      {25, 0.95, 1.0},  {50, 0.90, 1.15},  {75, 0.80, 1.3},
  };
}

namespace {

// Reads fields of one JSON object, naming "file: a.b[2].c" in errors, and refuses keys it
// was never asked about (so a typo is an error, not a silently ignored setting).
class Fields {
 public:
  Fields(const json& j, std::string where, std::string path) : j_(j), where_(std::move(where)), path_(std::move(path)) {
    if (!j_.is_object()) fail("expected an object");
  }
  ~Fields() = default;

  [[noreturn]] void fail(const std::string& what, const std::string& key = {}) const {
    const std::string field = key.empty() ? path_ : (path_.empty() ? key : path_ + "." + key);
    throw_bad_input(where_, (field.empty() ? std::string() : field + ": ") + what);
  }
  std::string sub(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  const std::string& where() const { return where_; }

  bool has(const std::string& key) {
    seen_.insert(key);
    return j_.contains(key);
  }
  const json& raw(const std::string& key) {
    seen_.insert(key);
    return j_.at(key);
  }
  double number(const std::string& key, double def, double lo, double hi) {
    if (!has(key)) return def;
    const json& v = j_.at(key);
    if (!v.is_number()) fail("expected a number, found " + v.dump(), key);
    const double d = v.get<double>();
    if (!std::isfinite(d) || d < lo || d > hi)
      fail("must be in [" + fmt(lo) + ", " + fmt(hi) + "], found " + v.dump(), key);
    return d;
  }
  int integer(const std::string& key, int def, long long lo, long long hi) {
    if (!has(key)) return def;
    const json& v = j_.at(key);
    if (!v.is_number_integer()) fail("expected an integer, found " + v.dump(), key);
    const long long d = v.get<long long>();
    if (d < lo || d > hi) fail("must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], found " + v.dump(), key);
    return int(d);
  }
  bool boolean(const std::string& key, bool def) {
    if (!has(key)) return def;
    const json& v = j_.at(key);
    if (!v.is_boolean()) fail("expected true or false, found " + v.dump(), key);
    return v.get<bool>();
  }
  std::string string(const std::string& key, const std::string& def) {
    if (!has(key)) return def;
    const json& v = j_.at(key);
    if (!v.is_string()) fail("expected a string, found " + v.dump(), key);
    return v.get<std::string>();
  }
  std::vector<double> numbers(const std::string& key, size_t n, double lo, double hi) {
    const json& v = j_.at(key);
    if (!v.is_array() || v.size() != n) fail("expected a list of " + std::to_string(n) + " numbers, found " + v.dump(), key);
    std::vector<double> out;
    for (const json& e : v) {
      if (!e.is_number()) fail("expected a list of " + std::to_string(n) + " numbers, found " + v.dump(), key);
      const double d = e.get<double>();
      if (!std::isfinite(d) || d < lo || d > hi)
        fail("values must be in [" + fmt(lo) + ", " + fmt(hi) + "], found " + v.dump(), key);
      out.push_back(d);
    }
    return out;
  }
  glm::dvec3 vec3(const std::string& key, glm::dvec3 def, double lo, double hi) {
    if (!has(key)) return def;
    const auto v = numbers(key, 3, lo, hi);
    return {v[0], v[1], v[2]};
  }
  glm::dvec2 vec2(const std::string& key, glm::dvec2 def, double lo, double hi) {
    if (!has(key)) return def;
    const auto v = numbers(key, 2, lo, hi);
    return {v[0], v[1]};
  }
  std::vector<int> ids(const std::string& key) {
    if (!has(key)) return {};
    const json& v = j_.at(key);
    if (!v.is_array()) fail("expected a list of 0-based view indices", key);
    std::vector<int> out;
    for (const json& e : v) {
      if (!e.is_number_integer() || e.get<long long>() < 0 || e.get<long long>() > 100000)
        fail("expected a list of 0-based view indices, found " + v.dump(), key);
      out.push_back(int(e.get<long long>()));
    }
    return out;
  }
  // Call when done: any key not read is an error.
  void finish() const {
    for (auto it = j_.begin(); it != j_.end(); ++it)
      if (!seen_.count(it.key())) fail("unknown key (see scenes/README.md for the schema)", it.key());
  }

 private:
  static std::string fmt(double v) {
    std::string s = std::to_string(v);
    while (s.find('.') != std::string::npos && (s.back() == '0' || s.back() == '.')) {
      const bool dot = s.back() == '.';
      s.pop_back();
      if (dot) break;
    }
    return s;
  }
  const json& j_;
  std::string where_, path_;
  std::set<std::string> seen_;
};

constexpr double kBig = 1e6;

}  // namespace

SceneDesc parse_scene(std::string_view text, const std::string& where, const std::string& base_dir) {
  json top;
  try {
    top = json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    throw_bad_input(where, std::string("not valid JSON (") + e.what() + ")");
  }
  SceneDesc d;
  d.file = where;
  d.lighting_setups = default_lighting_setups();
  Fields f(top, where, "");
  d.name = f.string("name", fs::path(where).stem().string());
  if (d.name.empty() || d.name.find_first_of("/\\") != std::string::npos || d.name == "." || d.name == "..")
    f.fail("must be a plain folder name, found '" + d.name + "'", "name");
  d.seed = uint64_t(f.number("seed", 0, 0, 9007199254740992.0));
  if (f.has("image")) {
    Fields g(f.raw("image"), where, "image");
    d.width = g.integer("width", d.width, 8, 16384);
    d.height = g.integer("height", d.height, 8, 16384);
    d.supersampling = g.integer("supersampling", d.supersampling, 1, 9);
    g.finish();
  }
  if (!f.has("objects") || !f.raw("objects").is_array() || f.raw("objects").empty())
    f.fail("expected a non-empty list of objects", "objects");
  const json& objs = f.raw("objects");
  for (size_t i = 0; i < objs.size(); ++i) {
    Fields g(objs[i], where, "objects[" + std::to_string(i) + "]");
    ObjectDesc o;
    const std::string obj = g.string("obj", "");
    if (obj.empty()) g.fail("missing \"obj\" (an OBJ file path)");
    fs::path p(obj);
    if (p.is_relative()) p = fs::path(base_dir) / p;
    o.obj_path = p.lexically_normal().string();
    o.translate = g.vec3("translate", o.translate, -kBig, kBig);
    o.rotate_deg = g.vec3("rotate_deg", o.rotate_deg, -3600, 3600);
    if (g.has("scale")) {
      if (g.raw("scale").is_number()) {
        const double s = g.number("scale", 1, 1e-9, kBig);
        o.scale = glm::dvec3(s);
      } else {
        o.scale = g.vec3("scale", o.scale, 1e-9, kBig);
      }
    }
    g.finish();
    d.objects.push_back(o);
  }
  if (f.has("platform")) {
    Fields g(f.raw("platform"), where, "platform");
    d.platform_size = g.vec2("size", d.platform_size, 1e-6, kBig);
    d.platform_thickness = g.number("thickness", d.platform_thickness, 1e-6, kBig);
    d.platform_color = g.vec3("color", d.platform_color, 0, 1);
    g.finish();
  }
  if (f.has("box")) {
    Fields g(f.raw("box"), where, "box");
    d.box_size = g.vec3("size", d.box_size, 1e-6, kBig);
    d.box_color = g.vec3("color", d.box_color, 0, 1);
    g.finish();
  }
  d.ambient = f.vec3("ambient", d.ambient, 0, 100);
  if (f.has("lights")) {
    const json& ls = f.raw("lights");
    if (!ls.is_array()) f.fail("expected a list of lights", "lights");
    for (size_t i = 0; i < ls.size(); ++i) {
      Fields g(ls[i], where, "lights[" + std::to_string(i) + "]");
      LightDesc l;
      const std::string type = g.string("type", "point");
      if (type == "point") {
        l.type = LightDesc::Type::Point;
        if (!g.has("position")) g.fail("a point light needs \"position\"");
        l.position = g.vec3("position", l.position, -kBig, kBig);
      } else if (type == "directional") {
        l.type = LightDesc::Type::Directional;
        if (!g.has("direction")) g.fail("a directional light needs \"direction\"");
        l.direction = g.vec3("direction", l.direction, -kBig, kBig);
        if (!(glm::length(l.direction) > 1e-12)) g.fail("must not be zero", "direction");
        l.direction = glm::normalize(l.direction);
      } else {
        g.fail("expected \"point\" or \"directional\", found \"" + type + "\"", "type");
      }
      l.color = g.vec3("color", l.color, 0, 1);
      l.intensity = g.number("intensity", l.intensity, 0, kBig);
      l.shadows = g.boolean("shadows", type == "point");
      g.finish();
      d.lights.push_back(l);
    }
  } else {
    // A key light above the front-left casting shadows, and a weak fill from the other side.
    LightDesc key;
    key.position = {-2.0, -2.5, 4.0};
    key.intensity = 32;
    key.shadows = true;
    LightDesc fill;
    fill.type = LightDesc::Type::Directional;
    fill.direction = glm::normalize(glm::dvec3(-0.5, 0.8, -0.6));
    fill.intensity = 0.25;
    d.lights = {key, fill};
  }
  if (f.has("lighting_setups")) {
    const json& ls = f.raw("lighting_setups");
    if (!ls.is_array() || ls.empty()) f.fail("expected a non-empty list", "lighting_setups");
    d.lighting_setups.clear();
    for (size_t i = 0; i < ls.size(); ++i) {
      Fields g(ls[i], where, "lighting_setups[" + std::to_string(i) + "]");
      LightingSetup s;
      s.rotate_deg = g.number("rotate_deg", 0, -3600, 3600);
      s.intensity = g.number("intensity", 1, 0, kBig);
      s.ambient = g.number("ambient", 1, 0, kBig);
      g.finish();
      d.lighting_setups.push_back(s);
    }
  }
  d.default_lighting = f.integer("default_lighting", std::min<int>(3, int(d.lighting_setups.size()) - 1), 0, 1000);
  if (f.has("rig")) {
    Fields g(f.raw("rig"), where, "rig");
    RigDesc& r = d.rig;
    r.views = g.integer("views", r.views, 1, 10000);
    r.rows = g.integer("rows", r.rows, 0, 10000);
    r.radius = g.number("radius", r.radius, 1e-6, kBig);
    r.target = g.vec3("target", r.target, -kBig, kBig);
    const glm::dvec2 el = g.vec2("elevation_deg", {r.elevation_lo, r.elevation_hi}, -89, 89);
    const glm::dvec2 az = g.vec2("azimuth_deg", {r.azimuth_lo, r.azimuth_hi}, -360, 360);
    r.elevation_lo = el.x;
    r.elevation_hi = el.y;
    r.azimuth_lo = az.x;
    r.azimuth_hi = az.y;
    if (el.x > el.y) g.fail("must be [low, high]", "elevation_deg");
    if (az.x > az.y) g.fail("must be [low, high]", "azimuth_deg");
    r.fov_x_deg = g.number("fov_x_deg", r.fov_x_deg, 1, 170);
    r.jitter_deg = g.number("jitter_deg", r.jitter_deg, 0, 10);
    g.finish();
  }
  if (f.has("split")) {
    Fields g(f.raw("split"), where, "split");
    d.split.input_views = g.ids("input_views");
    d.split.test_views = g.ids("test_views");
    d.split.test_count = g.integer("test_count", d.split.test_count, 0, 10000);
    g.finish();
  }
  d.points = f.integer("points", d.points, 0, 10000000);
  f.finish();
  validate_scene(d);
  return d;
}

SceneDesc read_scene(const std::string& path) {
  const std::string text = read_file(path);
  return parse_scene(text, path, fs::path(path).parent_path().string());
}

void validate_scene(const SceneDesc& d) {
  const std::string& w = d.file.empty() ? std::string("scene") : d.file;
  if (d.width < 8 || d.height < 8 || d.width > 16384 || d.height > 16384)
    throw_bad_input(w, "image size must be 8..16384 pixels a side, found " + std::to_string(d.width) + "x" +
                           std::to_string(d.height));
  if (d.supersampling < 1 || d.supersampling > 9 || d.supersampling % 2 == 0)
    throw_bad_input(w, "image.supersampling must be odd (1, 3, 5, 7 or 9: the centre sample gives depth and mask), found " +
                           std::to_string(d.supersampling));
  if (d.lighting_setups.empty()) throw_bad_input(w, "lighting_setups: at least one set-up is needed");
  if (d.default_lighting < 0 || size_t(d.default_lighting) >= d.lighting_setups.size())
    throw_bad_input(w, "default_lighting " + std::to_string(d.default_lighting) + " is out of range (0.." +
                           std::to_string(d.lighting_setups.size() - 1) + ")");
  if (d.rig.views < 1 || d.rig.views > 10000) throw_bad_input(w, "rig.views must be 1..10000, found " + std::to_string(d.rig.views));
  if (d.box_size.x <= d.platform_size.x || d.box_size.y <= d.platform_size.y)
    throw_bad_input(w, "box.size must be larger than platform.size");
  const auto check_ids = [&](const std::vector<int>& ids, const char* what) {
    std::set<int> seen;
    for (int id : ids) {
      if (id < 0 || id >= d.rig.views)
        throw_bad_input(w, std::string("split.") + what + ": view " + std::to_string(id) + " is out of range (the rig has " +
                               std::to_string(d.rig.views) + " views)");
      if (!seen.insert(id).second)
        throw_bad_input(w, std::string("split.") + what + ": view " + std::to_string(id) + " is listed twice");
    }
  };
  check_ids(d.split.input_views, "input_views");
  check_ids(d.split.test_views, "test_views");
  for (int id : d.split.input_views)
    for (int t : d.split.test_views)
      if (id == t) throw_bad_input(w, "split: view " + std::to_string(id) + " is both an input and a test view");
  // The rig's cameras must be inside the box, above its floor and below its lid.
  const double floor_z = -d.platform_thickness;
  const double top = d.rig.target.z + d.rig.radius * std::sin(glm::radians(d.rig.elevation_hi));
  const double low = d.rig.target.z + d.rig.radius * std::sin(glm::radians(d.rig.elevation_lo));
  if (top >= floor_z + d.box_size.z || low <= floor_z || std::abs(d.rig.target.x) + d.rig.radius >= 0.5 * d.box_size.x ||
      std::abs(d.rig.target.y) + d.rig.radius >= 0.5 * d.box_size.y)
    throw_bad_input(w, "the camera rig (radius " + std::to_string(d.rig.radius) + " around the target) does not fit inside the box");
}

SceneDesc arrange_scene(SceneDesc desc, uint64_t seed, const std::string& name) {
  Rng rng(seed * 2654435761u + 17);
  desc.seed = seed;
  desc.name = name.empty() ? desc.name + "_" + std::to_string(seed) : name;
  for (size_t i = desc.objects.size(); i > 1; --i) {  // shuffle positions among objects
    const size_t j = size_t(rng.index(int(i)));
    std::swap(desc.objects[i - 1].translate, desc.objects[j].translate);
  }
  for (auto& o : desc.objects) {
    o.translate.x += rng.uniform(-0.15f, 0.15f);
    o.translate.y += rng.uniform(-0.15f, 0.15f);
    o.rotate_deg.z += rng.uniform(0.0f, 360.0f);
    o.scale *= double(rng.uniform(0.75f, 1.25f));
  }
  desc.default_lighting = rng.index(int(std::max<size_t>(1, desc.lighting_setups.size())));
  desc.platform_color = glm::dvec3(rng.uniform(0.6f, 0.95f), rng.uniform(0.6f, 0.95f), rng.uniform(0.6f, 0.95f));
  return desc;
}

}  // namespace sp::synth
