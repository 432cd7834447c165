#include "engine/synth/ray_tracer.h"

#include <algorithm>
#include <cmath>

#include "engine/core/error.h"

namespace sp::synth {

RayTracer::RayTracer(const World& world, const SceneDesc& desc) : world_(world), desc_(desc) {
  std::vector<uint8_t> shadow(world.mesh.triangle_count());
  for (size_t i = 0; i < shadow.size(); ++i) shadow[i] = world.mesh.kind[i] != SurfaceKind::Box;
  bvh_ = Bvh(world.mesh.positions, shadow);
  eps_ = std::max(1e-6f, 1e-4f * glm::length(bvh_.bounds_max() - bvh_.bounds_min()));
  set_lighting(desc.default_lighting);
}

void RayTracer::set_lighting(int lighting) {
  if (lighting < 0 || size_t(lighting) >= desc_.lighting_setups.size())
    throw_bad_input(desc_.file.empty() ? "scene" : desc_.file,
                    "lighting " + std::to_string(lighting) + " is out of range (the scene has set-ups 0.." +
                        std::to_string(desc_.lighting_setups.size() - 1) + ")");
  const LightingSetup& s = desc_.lighting_setups[size_t(lighting)];
  const auto lin = [](glm::dvec3 c) {
    return glm::vec3(srgb_to_linear(float(c.x)), srgb_to_linear(float(c.y)), srgb_to_linear(float(c.z)));
  };
  ambient_ = lin(desc_.ambient) * float(s.ambient);
  const double a = glm::radians(s.rotate_deg);
  const double ca = std::cos(a), sa = std::sin(a);
  const auto rot = [&](glm::dvec3 v) { return glm::dvec3(ca * v.x - sa * v.y, sa * v.x + ca * v.y, v.z); };
  const glm::dvec3 pivot(desc_.rig.target.x, desc_.rig.target.y, 0.0);
  lights_.clear();
  for (const LightDesc& l : desc_.lights) {
    ShadingLight sl;
    sl.point = l.type == LightDesc::Type::Point;
    if (sl.point) sl.position = glm::vec3(pivot + rot(l.position - pivot));
    else sl.to_light = glm::vec3(-glm::normalize(rot(l.direction)));
    sl.radiance = lin(l.color) * float(l.intensity * s.intensity);
    sl.shadows = l.shadows;
    lights_.push_back(sl);
  }
}

glm::vec3 RayTracer::shade(const glm::vec3& origin, const glm::vec3& dir, const RayHit& hit) const {
  const TriangleMesh& m = world_.mesh;
  const size_t tri = size_t(hit.triangle);
  const float w0 = 1.0f - hit.b1 - hit.b2;
  const glm::vec3& p0 = m.positions[3 * tri];
  const glm::vec3& p1 = m.positions[3 * tri + 1];
  const glm::vec3& p2 = m.positions[3 * tri + 2];
  const glm::vec3 p = origin + hit.t * dir;
  const glm::vec3 view = -glm::normalize(dir);
  glm::vec3 ng = glm::normalize(glm::cross(p1 - p0, p2 - p0));
  if (glm::dot(ng, view) < 0) ng = -ng;
  glm::vec3 ns = w0 * m.normals[3 * tri] + hit.b1 * m.normals[3 * tri + 1] + hit.b2 * m.normals[3 * tri + 2];
  const float len = glm::length(ns);
  ns = len > 1e-12f ? ns / len : ng;
  if (glm::dot(ns, ng) < 0) ns = -ns;
  if (glm::dot(ns, view) < 0) ns = ng;  // interpolated normal turned away from the eye

  const Material& mat = world_.materials[size_t(m.material[tri])];
  glm::vec3 albedo = mat.diffuse;
  if (mat.texture >= 0) {
    const glm::vec2 uv = w0 * m.uvs[3 * tri] + hit.b1 * m.uvs[3 * tri + 1] + hit.b2 * m.uvs[3 * tri + 2];
    albedo *= world_.textures[size_t(mat.texture)].sample(uv);
  }
  glm::vec3 color = albedo * ambient_;
  const glm::vec3 start = p + ng * eps_;
  for (const ShadingLight& l : lights_) {
    glm::vec3 L;
    float dist = 1e30f;
    glm::vec3 E = l.radiance;
    if (l.point) {
      L = l.position - p;
      dist = glm::length(L);
      if (!(dist > 0)) continue;
      L /= dist;
      E /= dist * dist;
    } else {
      L = l.to_light;
    }
    if (glm::dot(ng, L) <= 0) continue;  // the light is behind the surface
    const float ndl = glm::dot(ns, L);
    if (ndl <= 0) continue;
    if (l.shadows && bvh_.occluded(start, L, 0.0f, dist - 2 * eps_)) continue;
    color += albedo * E * ndl;
    if (mat.specular.x + mat.specular.y + mat.specular.z > 0) {
      const glm::vec3 h = glm::normalize(L + view);
      const float ndh = std::max(0.0f, glm::dot(ns, h));
      color += mat.specular * E * std::pow(ndh, mat.shininess);
    }
  }
  return color;
}

RenderedView RayTracer::render(const RigCamera& cam, int n) const {
  if (n < 1 || n % 2 == 0) throw_internal("RayTracer::render: supersampling must be odd");
  const int W = cam.width, H = cam.height;
  RenderedView out;
  out.color = Image(W, H, 3);
  out.depth = Image(W, H, 1);
  out.mask = Image(W, H, 1);
  out.triangle.assign(size_t(W) * size_t(H), -1);
  const glm::dmat3 Rt = glm::transpose(cam.R);
  const glm::vec3 origin(cam.center());
  const double fx = cam.K[0][0], fy = cam.K[1][1], cx = cam.K[2][0], cy = cam.K[2][1], skew = cam.K[1][0];
  const float inv_samples = 1.0f / float(n * n);
  const int centre = n / 2;
#pragma omp parallel for schedule(dynamic, 2)
  for (int y = 0; y < H; ++y) {
    for (int x = 0; x < W; ++x) {
      glm::vec3 acc(0.0f);
      for (int sy = 0; sy < n; ++sy)
        for (int sx = 0; sx < n; ++sx) {
          const double u = x + (sx + 0.5) / n, v = y + (sy + 0.5) / n;
          // Camera-space direction with z = 1, so the hit distance t is the view-space depth.
          const double dy = (v - cy) / fy;
          const double dx = (u - cx - skew * dy) / fx;
          const glm::vec3 dir(Rt * glm::dvec3(dx, dy, 1.0));
          RayHit hit;
          const bool any = bvh_.closest(origin, dir, 0.0f, 1e30f, hit);
          if (any) acc += shade(origin, dir, hit);
          if (sx == centre && sy == centre && any) {
            const size_t px = size_t(y) * size_t(W) + size_t(x);
            out.depth.pixels[px] = hit.t;
            out.triangle[px] = hit.triangle;
            out.mask.pixels[px] = world_.mesh.kind[size_t(hit.triangle)] == SurfaceKind::Object ? 1.0f : 0.0f;
          }
        }
      acc *= inv_samples;
      float* c = &out.color.pixels[(size_t(y) * size_t(W) + size_t(x)) * 3];
      for (int k = 0; k < 3; ++k) c[k] = linear_to_srgb(acc[k]);
    }
  }
  return out;
}

}  // namespace sp::synth
