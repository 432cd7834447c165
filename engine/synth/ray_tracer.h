#pragma once
// The synthetic scenes' renderer: a multi-threaded CPU ray caster over a BVH.
//
// Per pixel, n x n stratified samples (n = supersampling, odd) are traced and averaged
// (box filter); each sample's first hit is shaded with Blinn-Phong: linear albedo (MTL Kd
// times the bilinearly sampled map_Kd texture, perspective-correct since the texture
// coordinates come from the hit's barycentrics) x (ambient + sum of lights' irradiance
// x max(0, n.l)) + Ks x irradiance x max(0, n.h)^Ns, with shadow rays towards every light
// marked "shadows" (the black box's walls do not block light: the lights are inside it).
// Point lights fall off as 1/d^2. The sum is converted linear -> sRGB and clamped.
// The centre sample (the ray through the pixel centre, (i + 0.5, j + 0.5)) alone gives the
// pixel's depth (view-space z of its first hit) and object mask (first hit is an object).
//
// Deterministic: every pixel is computed independently of thread scheduling.
#include <cstdint>
#include <vector>

#include "engine/core/image.h"
#include "engine/synth/bvh.h"
#include "engine/synth/camera_rig.h"
#include "engine/synth/mesh.h"

namespace sp::synth {

struct RenderedView {
  Image color;                    // RGB, sRGB-encoded, [0, 1]
  Image depth;                    // 1 channel: view-space z of the centre ray's hit, 0 where nothing is hit
  Image mask;                     // 1 channel: 1 where the centre ray hits an object, else 0
  std::vector<int32_t> triangle;  // per pixel: the centre ray's triangle (-1 when none)
};

struct ShadingLight {
  bool point = true;
  glm::vec3 position{0.0f};   // point
  glm::vec3 to_light{0.0f};   // directional: unit vector towards the light
  glm::vec3 radiance{0.0f};   // linear colour x intensity (point: at distance 1)
  bool shadows = false;
};

class RayTracer {
 public:
  RayTracer(const World& world, const SceneDesc& desc);

  // The lights of lighting set-up L (desc.lighting_setups[L] applied to desc.lights).
  void set_lighting(int lighting);
  RenderedView render(const RigCamera& camera, int supersampling) const;

  // First surface along origin + t * dir for t in (t_min, t_max).
  bool trace(const glm::vec3& origin, const glm::vec3& dir, float t_min, float t_max, RayHit& hit) const {
    return bvh_.closest(origin, dir, t_min, t_max, hit);
  }
  const World& world() const { return world_; }
  float epsilon() const { return eps_; }  // offset for secondary rays (scene-scaled)

 private:
  glm::vec3 shade(const glm::vec3& origin, const glm::vec3& dir, const RayHit& hit) const;

  const World& world_;
  const SceneDesc& desc_;
  Bvh bvh_;
  float eps_ = 1e-4f;
  glm::vec3 ambient_{0.0f};
  std::vector<ShadingLight> lights_;
};

}  // namespace sp::synth
