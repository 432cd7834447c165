#pragma once
// The synthetic world's geometry and materials: world-space triangles (from OBJ files read
// with tinyobjloader, plus the built-in platform and black box), MTL materials and their
// diffuse textures. Colours are stored linear (sRGB-decoded) for shading.
#include <cstdint>
#include <string>
#include <vector>

#include <glm/glm.hpp>

#include "engine/synth/scene_file.h"

namespace sp::synth {

// What a triangle belongs to: the object mask is "first hit is an Object".
enum class SurfaceKind : uint8_t { Object = 0, Platform = 1, Box = 2 };

struct Texture {
  std::string path;
  int width = 0, height = 0;
  std::vector<float> rgb;  // linear RGB, rows top to bottom
  // Bilinear lookup with repeat wrapping; (u, v) in OBJ convention (v = 0 at the bottom row).
  glm::vec3 sample(glm::vec2 uv) const;
};

struct Material {
  std::string name;
  glm::vec3 diffuse{0.8f};   // linear albedo (MTL Kd, sRGB-decoded); multiplies the texture
  glm::vec3 specular{0.0f};  // MTL Ks (linear)
  float shininess = 32.0f;   // MTL Ns (Blinn-Phong exponent)
  int texture = -1;          // index into World::textures (MTL map_Kd), -1 for none
};

// Triangle soup in structure-of-arrays form; triangle i uses entries [3i, 3i + 3) of the
// per-vertex arrays.
struct TriangleMesh {
  std::vector<glm::vec3> positions;
  std::vector<glm::vec3> normals;  // shading normals (face normal when the OBJ has none)
  std::vector<glm::vec2> uvs;      // (0, 0) when the OBJ has none
  std::vector<int32_t> material;   // per triangle
  std::vector<SurfaceKind> kind;   // per triangle
  std::vector<int32_t> object;     // per triangle: object index for Object, -1 otherwise

  size_t triangle_count() const { return material.size(); }
};

struct World {
  TriangleMesh mesh;
  std::vector<Material> materials;
  std::vector<Texture> textures;
};

// Appends an OBJ file's triangles (transformed by the object's translate/rotate/scale) and
// its materials/textures to `world`, tagged as object `object_index`. BadInput naming the
// OBJ, MTL or texture file when one cannot be read or the OBJ has no faces.
void append_obj(World& world, const ObjectDesc& object, int object_index);
// Appends an axis-aligned box [lo, hi] with the given material; faces point outwards, or
// inwards when `inward` (the black box is seen from inside).
void append_box(World& world, glm::vec3 lo, glm::vec3 hi, int material, SurfaceKind kind, bool inward);
// The whole scene: objects, the platform (top face at z = 0) and the box around it.
World build_world(const SceneDesc& desc);

// Object-to-world matrix of an object's transform: T * Rz * Ry * Rx * S.
glm::dmat4 object_transform(const ObjectDesc& object);

float srgb_to_linear(float c);
float linear_to_srgb(float c);

}  // namespace sp::synth
