#pragma once
// The DTU-like camera rig of a synthetic scene and its sparse-view split.
//
// Cameras sit on a spherical cap around the rig target, in `rows` rows of equal elevation
// steps from elevation_lo to elevation_hi; each row spans azimuth_lo..azimuth_hi with a view
// count proportional to cos(elevation) (so neighbours are about equally far apart), rows
// ordered bottom to top and traversed alternately left-right and right-left as DTU's robot
// does. Azimuth 0 puts a camera on the -y side; every camera looks at the target with the
// world's +z up in the image. A seeded jitter (uniform in +-jitter_deg on both angles, and
// +-1% x jitter_deg/0.5 on the radius) keeps the rig from being perfectly regular.
// Intrinsics: fx = fy = (width / 2) / tan(fov_x / 2), principal point at the image centre.
//
// The split (written as SpaRe's split JSON): input views are the views nearest, in
// direction, to 9 target directions around the cap's centre, in this order (azimuth,
// elevation offsets in degrees): (0, 0), (-25, 0), (25, 0), (-12, 12), (12, 12),
// (-12, -12), (12, -12), (-40, 0), (40, 0) — so the first 3 are a DTU-like "centre, left,
// right" triple and the 9 extend it (fewer when the rig has under 9 + test_count views:
// test_count views are left over). Test views: the test_count other views nearest in
// direction to the centre of the first 3 inputs (novel views around the input triple, where
// a 3-view reconstruction can be judged), ascending. A scene file may list both explicitly.
#include <string>
#include <vector>

#include <glm/glm.hpp>

#include "engine/core/camera.h"
#include "engine/synth/scene_file.h"

namespace sp::synth {

struct RigCamera {
  int width = 0, height = 0;
  glm::dmat3 K{1.0};  // GLM column-major: K[2][0] = cx
  glm::dmat3 R{1.0};  // world -> camera
  glm::dvec3 t{0.0};
  double azimuth_deg = 0, elevation_deg = 0;  // where the rig put it (after jitter)

  glm::dvec3 center() const { return -glm::transpose(R) * t; }
  Camera to_camera(const std::string& name) const;
};

// All rig.views cameras at desc.width x desc.height; deterministic for desc.seed.
std::vector<RigCamera> make_rig(const SceneDesc& desc);

struct ViewSplit {
  std::vector<int> input_views;  // protocol order: the first N are the N-view input set
  std::vector<int> test_views;   // ascending
};
// desc.split's lists when given, else chosen as described above.
ViewSplit choose_split(const SceneDesc& desc, const std::vector<RigCamera>& cameras);

}  // namespace sp::synth
