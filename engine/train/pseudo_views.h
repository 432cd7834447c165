#pragma once
// Pseudo views for sparse-view training: camera poses between the train cameras, where no
// photo exists. Sparse-view regularizers render there (co-regularization of two fields,
// depth smoothness) and the diffusion prior (engine/prior) renders, refines and feeds the
// images back as pseudo targets (Trainer::set_pseudo_targets).
#include <cstdint>
#include <vector>

#include "engine/core/camera.h"
#include "engine/core/rng.h"

namespace sp {

// The pose a fraction `t` of the way from `from` to `to`: rotation by quaternion slerp,
// centre by linear interpolation; intrinsics and size of `from` (t = 0 gives `from`'s pose,
// t = 1 `to`'s). Difix3D+ moves novel poses 0.5 of the way toward the target each round.
Camera camera_toward(const Camera& from, const Camera& to, float t);

// `count` poses, each between a random train camera and its nearest other train camera
// (by centre distance, as FSGS pairs them), at a uniform random fraction of the way.
// Names are "pseudo_000", "pseudo_001", ...; intrinsics of the first camera of each pair.
// Needs at least two train cameras (fewer: returns an empty list).
std::vector<Camera> interpolated_pseudo_cameras(const std::vector<Camera>& train, int count, Rng& rng);
std::vector<Camera> interpolated_pseudo_cameras(const std::vector<Camera>& train, int count, uint64_t seed);

// The point nearest to every camera's optical axis (least squares), where a converging rig
// looks; false when the axes are close to parallel (forward-facing captures) or the point
// lies behind the cameras.
bool rig_focus(const std::vector<Camera>& cameras, glm::vec3& focus);

// Tilts each of `cameras` about `focus`, around its own right axis, by a uniform random angle
// in [-max_angle, max_angle] (radians): poses above and below a rig's arc, where a DTU-style
// rig's test views are and interpolation between the train cameras never goes.
void tilt_about(std::vector<Camera>& cameras, const glm::vec3& focus, float max_angle, Rng& rng);

// Mean angle, seen from `focus`, between each camera and its nearest other camera.
float mean_neighbour_angle(const std::vector<Camera>& cameras, const glm::vec3& focus);

}  // namespace sp
