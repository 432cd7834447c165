#include "engine/synth/mesh.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include <glm/gtc/matrix_transform.hpp>
#include <tiny_obj_loader.h>

#include "engine/core/error.h"
#include "engine/core/log.h"
#include "engine/io/image_io.h"

namespace sp::synth {
namespace fs = std::filesystem;

float srgb_to_linear(float c) {
  c = std::clamp(c, 0.0f, 1.0f);
  return c <= 0.04045f ? c / 12.92f : std::pow((c + 0.055f) / 1.055f, 2.4f);
}

float linear_to_srgb(float c) {
  c = std::clamp(c, 0.0f, 1.0f);
  return c <= 0.0031308f ? 12.92f * c : 1.055f * std::pow(c, 1.0f / 2.4f) - 0.055f;
}

glm::vec3 Texture::sample(glm::vec2 uv) const {
  // Texel centres at (i + 0.5) / width; rows stored top to bottom, v = 0 is the bottom.
  const float x = (uv.x - std::floor(uv.x)) * float(width) - 0.5f;
  const float y = (1.0f - (uv.y - std::floor(uv.y))) * float(height) - 0.5f;
  const float fx = std::floor(x), fy = std::floor(y);
  const float ax = x - fx, ay = y - fy;
  const auto wrap = [](int i, int n) { return ((i % n) + n) % n; };
  const int x0 = wrap(int(fx), width), x1 = wrap(int(fx) + 1, width);
  const int y0 = wrap(int(fy), height), y1 = wrap(int(fy) + 1, height);
  const auto px = [&](int xi, int yi) {
    const float* p = &rgb[(size_t(yi) * size_t(width) + size_t(xi)) * 3];
    return glm::vec3(p[0], p[1], p[2]);
  };
  return (1 - ay) * ((1 - ax) * px(x0, y0) + ax * px(x1, y0)) + ay * ((1 - ax) * px(x0, y1) + ax * px(x1, y1));
}

glm::dmat4 object_transform(const ObjectDesc& o) {
  glm::dmat4 m(1.0);
  m = glm::translate(m, o.translate);
  m = glm::rotate(m, glm::radians(o.rotate_deg.z), glm::dvec3(0, 0, 1));
  m = glm::rotate(m, glm::radians(o.rotate_deg.y), glm::dvec3(0, 1, 0));
  m = glm::rotate(m, glm::radians(o.rotate_deg.x), glm::dvec3(1, 0, 0));
  m = glm::scale(m, o.scale);
  return m;
}

namespace {

glm::vec3 linear_color(const tinyobj::real_t* c) {
  return {srgb_to_linear(float(c[0])), srgb_to_linear(float(c[1])), srgb_to_linear(float(c[2]))};
}

int load_texture(World& world, const std::string& path) {
  for (size_t i = 0; i < world.textures.size(); ++i)
    if (world.textures[i].path == path) return int(i);
  const Image img = load_image(path, 3);
  Texture t;
  t.path = path;
  t.width = img.width;
  t.height = img.height;
  t.rgb.resize(img.pixels.size());
  // 8-bit sources: decode through a table of the 256 codes.
  float table[256];
  for (int i = 0; i < 256; ++i) table[i] = srgb_to_linear(float(i) / 255.0f);
  for (size_t i = 0; i < img.pixels.size(); ++i) {
    const float v = img.pixels[i] * 255.0f;
    const float r = std::round(v);
    t.rgb[i] = std::abs(v - r) < 1e-3f ? table[int(std::clamp(r, 0.0f, 255.0f))] : srgb_to_linear(img.pixels[i]);
  }
  world.textures.push_back(std::move(t));
  return int(world.textures.size()) - 1;
}

void push_triangle(TriangleMesh& m, const glm::vec3 p[3], const glm::vec3 n[3], const glm::vec2 uv[3], int material,
                   SurfaceKind kind, int object) {
  for (int k = 0; k < 3; ++k) {
    m.positions.push_back(p[k]);
    m.normals.push_back(n[k]);
    m.uvs.push_back(uv[k]);
  }
  m.material.push_back(material);
  m.kind.push_back(kind);
  m.object.push_back(object);
}

}  // namespace

void append_obj(World& world, const ObjectDesc& object, int object_index) {
  const std::string& path = object.obj_path;
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw_bad_input(path, "no such OBJ file");
  tinyobj::ObjReaderConfig cfg;
  cfg.triangulate = true;
  cfg.vertex_color = false;
  cfg.mtl_search_path = fs::path(path).parent_path().string();
  tinyobj::ObjReader reader;
  if (!reader.ParseFromFile(path, cfg)) {
    std::string e = reader.Error();
    while (!e.empty() && (e.back() == '\n' || e.back() == '\r')) e.pop_back();
    std::replace(e.begin(), e.end(), '\n', ';');
    throw_bad_input(path, "cannot read OBJ (" + e + ")");
  }
  if (!reader.Warning().empty()) {
    std::string w = reader.Warning();
    while (!w.empty() && w.back() == '\n') w.pop_back();
    std::replace(w.begin(), w.end(), '\n', ';');
    // A missing .mtl only warns in tinyobjloader; for a scene it is an error the user can fix.
    if (w.find("not found") != std::string::npos || w.find("Failed to load") != std::string::npos)
      throw_bad_input(path, "OBJ reader: " + w);
    log_debug(path + ": " + w);
  }
  const auto& attrib = reader.GetAttrib();
  const auto& shapes = reader.GetShapes();
  const auto& mats = reader.GetMaterials();

  // Materials of this OBJ, plus a default grey for faces without one.
  const int base = int(world.materials.size());
  for (const auto& m : mats) {
    Material mat;
    mat.name = m.name;
    mat.diffuse = linear_color(m.diffuse);
    mat.specular = linear_color(m.specular);
    mat.shininess = std::clamp(float(m.shininess), 1.0f, 10000.0f);
    if (!m.diffuse_texname.empty()) {
      fs::path tp(m.diffuse_texname);
      if (tp.is_relative()) tp = fs::path(cfg.mtl_search_path) / tp;
      mat.texture = load_texture(world, tp.lexically_normal().string());
    }
    world.materials.push_back(mat);
  }
  const int fallback = int(world.materials.size());
  world.materials.push_back(Material{"default", glm::vec3(0.5f), glm::vec3(0.0f), 32.0f, -1});

  const glm::dmat4 M = object_transform(object);
  const glm::dmat3 N = glm::transpose(glm::inverse(glm::dmat3(M)));
  const bool mirrored = glm::determinant(glm::dmat3(M)) < 0;
  size_t faces = 0;
  const auto nv = attrib.vertices.size() / 3, nn = attrib.normals.size() / 3, nt = attrib.texcoords.size() / 2;
  for (const auto& shape : shapes) {
    const auto& mesh = shape.mesh;
    size_t offset = 0;
    for (size_t f = 0; f < mesh.num_face_vertices.size(); ++f) {
      const size_t count = mesh.num_face_vertices[f];
      if (count != 3) {  // triangulation leaves only degenerate polygons behind
        offset += count;
        continue;
      }
      glm::vec3 p[3], n[3];
      glm::vec2 uv[3];
      bool has_normals = true;
      for (int k = 0; k < 3; ++k) {
        const tinyobj::index_t idx = mesh.indices[offset + size_t(k)];
        if (idx.vertex_index < 0 || size_t(idx.vertex_index) >= nv) throw_bad_input(path, "face refers to a missing vertex");
        const auto* v = &attrib.vertices[3 * size_t(idx.vertex_index)];
        p[k] = glm::vec3(M * glm::dvec4(v[0], v[1], v[2], 1.0));
        if (idx.normal_index >= 0 && size_t(idx.normal_index) < nn) {
          const auto* q = &attrib.normals[3 * size_t(idx.normal_index)];
          const glm::dvec3 w = N * glm::dvec3(q[0], q[1], q[2]);
          n[k] = glm::length(w) > 0 ? glm::vec3(glm::normalize(w)) : glm::vec3(0);
          if (glm::length(w) == 0) has_normals = false;
        } else {
          has_normals = false;
        }
        if (idx.texcoord_index >= 0 && size_t(idx.texcoord_index) < nt) {
          const auto* q = &attrib.texcoords[2 * size_t(idx.texcoord_index)];
          uv[k] = glm::vec2(float(q[0]), float(q[1]));
        } else {
          uv[k] = glm::vec2(0);
        }
      }
      if (mirrored) {
        std::swap(p[1], p[2]);
        std::swap(n[1], n[2]);
        std::swap(uv[1], uv[2]);
      }
      const glm::vec3 face = glm::cross(p[1] - p[0], p[2] - p[0]);
      if (glm::length(face) == 0) {
        offset += 3;
        continue;
      }
      if (!has_normals) n[0] = n[1] = n[2] = glm::normalize(face);
      const int mid = f < mesh.material_ids.size() ? mesh.material_ids[f] : -1;
      const int material = mid >= 0 && size_t(mid) < mats.size() ? base + mid : fallback;
      push_triangle(world.mesh, p, n, uv, material, SurfaceKind::Object, object_index);
      ++faces;
      offset += 3;
    }
  }
  if (faces == 0) throw_bad_input(path, "no triangles (expected faces 'f ...')");
}

void append_box(World& world, glm::vec3 lo, glm::vec3 hi, int material, SurfaceKind kind, bool inward) {
  // Six faces, two triangles each, wound counter-clockwise seen from outside (or inside).
  const glm::vec3 c[8] = {{lo.x, lo.y, lo.z}, {hi.x, lo.y, lo.z}, {hi.x, hi.y, lo.z}, {lo.x, hi.y, lo.z},
                          {lo.x, lo.y, hi.z}, {hi.x, lo.y, hi.z}, {hi.x, hi.y, hi.z}, {lo.x, hi.y, hi.z}};
  const int quads[6][4] = {{0, 3, 2, 1}, {4, 5, 6, 7}, {0, 1, 5, 4}, {1, 2, 6, 5}, {2, 3, 7, 6}, {3, 0, 4, 7}};
  const glm::vec2 quv[4] = {{0, 0}, {1, 0}, {1, 1}, {0, 1}};
  for (const auto& q : quads) {
    int idx[4] = {q[0], q[1], q[2], q[3]};
    if (inward) std::swap(idx[1], idx[3]);
    const glm::vec3 n = glm::normalize(glm::cross(c[idx[1]] - c[idx[0]], c[idx[2]] - c[idx[0]]));
    const glm::vec3 ns[3] = {n, n, n};
    const glm::vec3 t1[3] = {c[idx[0]], c[idx[1]], c[idx[2]]};
    const glm::vec2 u1[3] = {quv[0], quv[1], quv[2]};
    push_triangle(world.mesh, t1, ns, u1, material, kind, -1);
    const glm::vec3 t2[3] = {c[idx[0]], c[idx[2]], c[idx[3]]};
    const glm::vec2 u2[3] = {quv[0], quv[2], quv[3]};
    push_triangle(world.mesh, t2, ns, u2, material, kind, -1);
  }
}

World build_world(const SceneDesc& desc) {
  World w;
  for (size_t i = 0; i < desc.objects.size(); ++i) append_obj(w, desc.objects[i], int(i));
  const auto lin = [](glm::dvec3 c) {
    return glm::vec3(srgb_to_linear(float(c.x)), srgb_to_linear(float(c.y)), srgb_to_linear(float(c.z)));
  };
  // A matte white platform with a faint sheen, and the black box (walls, floor, lid).
  const int platform = int(w.materials.size());
  w.materials.push_back(Material{"platform", lin(desc.platform_color), glm::vec3(0.04f), 20.0f, -1});
  const int box = int(w.materials.size());
  w.materials.push_back(Material{"box", lin(desc.box_color), glm::vec3(0.0f), 1.0f, -1});
  const float hx = float(desc.platform_size.x / 2), hy = float(desc.platform_size.y / 2);
  const float floor_z = -float(desc.platform_thickness);
  append_box(w, {-hx, -hy, floor_z}, {hx, hy, 0.0f}, platform, SurfaceKind::Platform, false);
  const float bx = float(desc.box_size.x / 2), by = float(desc.box_size.y / 2);
  append_box(w, {-bx, -by, floor_z}, {bx, by, floor_z + float(desc.box_size.z)}, box, SurfaceKind::Box, true);
  return w;
}

}  // namespace sp::synth
