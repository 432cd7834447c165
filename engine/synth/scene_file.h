#pragma once
// The scene description of `sparsplat synth`: a JSON file placing OBJ meshes on a white
// platform inside a black box, lit by point / directional lights plus ambient light, and
// photographed by a DTU-like camera rig. The schema, with every default, is documented in
// scenes/README.md; all lengths are in scene units, the world is right-handed with +z up,
// the platform's top face is the plane z = 0.
//
// {
//   "name": "demo",                        scene (= output folder and split key); default: file stem
//   "seed": 0,                             camera jitter and COLMAP point sampling
//   "image": {"width": 400, "height": 300, "supersampling": 3},
//   "objects": [{"obj": "assets/crate.obj", "translate": [x, y, z], "rotate_deg": [rx, ry, rz],
//                "scale": s or [sx, sy, sz]}],
//   "platform": {"size": [w, d], "thickness": h, "color": [r, g, b]},   sRGB colours in [0, 1]
//   "box": {"size": [w, d, h], "color": [r, g, b]},
//   "ambient": [r, g, b],
//   "lights": [{"type": "point", "position": [...], "color": [...], "intensity": I, "shadows": true},
//              {"type": "directional", "direction": [...] (towards the scene), ...}],
//   "lighting_setups": [{"rotate_deg": a, "intensity": k, "ambient": k}, ... 7 entries],
//   "default_lighting": 3,
//   "rig": {"views": 49, "rows": 0 (auto), "radius": 3.2, "target": [x, y, z],
//           "elevation_deg": [lo, hi], "azimuth_deg": [lo, hi], "fov_x_deg": 31,
//           "jitter_deg": 0.5},
//   "split": {"input_views": [...], "test_views": [...], "test_count": 10},   optional
//   "points": 20000                        COLMAP points sampled on the surfaces
// }
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <glm/glm.hpp>

namespace sp::synth {

struct ObjectDesc {
  std::string obj_path;  // resolved against the scene file's folder
  glm::dvec3 translate{0.0};
  glm::dvec3 rotate_deg{0.0};  // applied as Rz * Ry * Rx (x first)
  glm::dvec3 scale{1.0};
};

struct LightDesc {
  enum class Type { Point, Directional } type = Type::Point;
  glm::dvec3 position{0.0};   // point lights
  glm::dvec3 direction{0.0, 0.0, -1.0};  // directional lights: the direction light travels
  glm::dvec3 color{1.0};      // sRGB colour (decoded to linear for shading)
  double intensity = 1.0;     // point: radiance scale at distance 1 (falls off as 1/d^2)
  bool shadows = false;
};

// One of the lighting set-ups a lighting index selects (DTU has 7): every light rotated
// about the vertical axis through the rig target, scaled in intensity, and the ambient
// light scaled.
struct LightingSetup {
  double rotate_deg = 0;
  double intensity = 1;
  double ambient = 1;
};

struct RigDesc {
  int views = 49;
  int rows = 0;  // 0: round(sqrt(views / 2))
  double radius = 3.2;
  glm::dvec3 target{0.0, 0.0, 0.3};
  double elevation_lo = 15, elevation_hi = 55;  // degrees above the horizon
  double azimuth_lo = -70, azimuth_hi = 70;     // degrees; 0 = cameras on the -y side
  double fov_x_deg = 31;                        // DTU's lens at 1600x1200 (fx = 2892)
  double jitter_deg = 0.5;                      // seeded jitter of each camera's angles
};

struct SplitDesc {
  std::vector<int> input_views;  // empty: chosen automatically (see camera_rig.h)
  std::vector<int> test_views;
  int test_count = 10;
};

struct SceneDesc {
  std::string file;  // the JSON file read ("" when built in code)
  std::string name = "scene";
  uint64_t seed = 0;
  int width = 400, height = 300;
  int supersampling = 3;  // n x n samples per pixel, n odd (the centre sample gives depth and mask)
  std::vector<ObjectDesc> objects;
  glm::dvec2 platform_size{2.6, 2.6};
  double platform_thickness = 0.15;
  glm::dvec3 platform_color{0.9};
  glm::dvec3 box_size{10.0, 10.0, 6.0};  // floor at the platform's bottom, centred on x = y = 0
  glm::dvec3 box_color{0.02};
  glm::dvec3 ambient{0.06};
  std::vector<LightDesc> lights;
  std::vector<LightingSetup> lighting_setups;  // index = lighting L
  int default_lighting = 3;
  RigDesc rig;
  SplitDesc split;
  int points = 20000;
};

// The 7 built-in lighting set-ups (L = 3 is the unrotated, full-intensity one).
std::vector<LightingSetup> default_lighting_setups();

// Parses a scene file; relative OBJ paths resolve against `base_dir`. BadInput naming
// `where` and the field for anything malformed or out of range.
SceneDesc parse_scene(std::string_view json_text, const std::string& where, const std::string& base_dir);
SceneDesc read_scene(const std::string& path);
// Checks ranges (sizes, counts, lighting setups); BadInput naming desc.file. parse_scene
// calls it; call it again after overriding fields.
void validate_scene(const SceneDesc& desc);

// Another arrangement of the same objects, drawn from `seed`: positions shuffled among the
// objects and moved by up to +-0.15, a random turn, +-25% size, a lighting set-up and a
// platform tint; name "<scene>_<seed>" unless `name` is given. Many distinct scenes of one
// kind from one file (train-prior's training scenes, the quality bench's DTU-like set).
SceneDesc arrange_scene(SceneDesc desc, uint64_t seed, const std::string& name = "");

}  // namespace sp::synth
