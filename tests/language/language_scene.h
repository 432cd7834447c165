#pragma once
// A generated scene with exact language ground truth for the language tests: four objects
// (classes), each a blob of Gaussians made of two parts, seen from cameras on a ring. Object
// and part ids per pixel come from rendering one-hot id channels of the same Gaussians, and
// LangSplat-style inputs are built from them at three granularities:
//   level s: each part's segment = its class embedding + noise
//   level m: each object's segment = class embedding + noise
//   level l: objects {0, 1} and {2, 3} merged, feature = noisy mean of the two classes
// A floor and a low wall around it (two more classes, one segment at every level)
// surround the objects, as real captures have background everywhere.
// Each view draws its own noise (as SAM + CLIP give slightly different features per image).
// As with CLIP, every image feature also shares a generic direction u with the canonical
// phrases ("object", "things"...): features = class + 0.6 u + noise, canonical phrases =
// u + a little noise, queries = the class embeddings; the canonical phrases then score as
// well as a wrong query on every pixel, which is what makes LangSplat's relevance contrast.
// Class and canonical-phrase embeddings are fixed random unit vectors of D dims.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <glm/gtc/quaternion.hpp>

#include "engine/core/rng.h"
#include "engine/io/image_io.h"
#include "engine/io/npy.h"
#include "engine/language/feature_maps.h"
#include "engine/render/rasterizer.h"
#include "engine/model/gaussian_model.h"

namespace sp::test {

struct LanguageScene {
  static constexpr int kClasses = 4;    // queried objects
  static constexpr int kBackdrops = 2;  // floor, wall: ids kClasses, kClasses + 1
  int dims = 512;
  GaussianModel model;                 // sh degree 0
  std::vector<int> object_of, part_of; // per Gaussian
  std::vector<Camera> cameras;
  std::vector<std::vector<int>> object_map;  // per view, per pixel: object id or -1
  std::vector<float> class_embeddings;       // (kClasses + kBackdrops) x D
  std::vector<float> canonical_embeddings;   // 4 x D
  std::vector<float> generic;                // D: the direction shared by features and canonical phrases
};

inline std::vector<float> random_unit(Rng& rng, int D) {
  std::vector<float> v(static_cast<size_t>(D));
  double n = 0;
  for (auto& x : v) {
    x = rng.normal();
    n += double(x) * x;
  }
  for (auto& x : v) x = float(x / std::sqrt(n));
  return v;
}

inline Camera ring_camera(int v, int views, int width, int height) {
  const float a = 2.0f * float(M_PI) * (float(v) + 0.25f) / float(views);
  const glm::vec3 c(4.2f * std::cos(a), -2.6f, 4.2f * std::sin(a));
  const glm::vec3 fwd = glm::normalize(-c);
  const glm::vec3 right = glm::normalize(glm::cross(fwd, glm::vec3(0, -1, 0)));
  const glm::vec3 down = glm::cross(fwd, right);
  Camera cam;
  cam.width = width;
  cam.height = height;
  cam.fx = cam.fy = 0.85f * float(width);
  cam.cx = 0.5f * float(width);
  cam.cy = 0.5f * float(height);
  cam.R = glm::transpose(glm::mat3(right, down, fwd));
  cam.t = -cam.R * c;
  char name[32];
  std::snprintf(name, sizeof name, "view_%03d.png", v);
  cam.name = name;
  return cam;
}

inline LanguageScene make_language_scene(int views, int width, int height, int dims = 512, uint64_t seed = 5) {
  LanguageScene s;
  s.dims = dims;
  Rng rng(seed);
  GaussianModel& m = s.model;
  m.sh_degree = 0;
  const glm::vec3 centres[LanguageScene::kClasses] = {{-0.9f, 0, -0.9f}, {0.9f, 0, -0.9f}, {0.9f, 0, 0.9f}, {-0.9f, 0, 0.9f}};
  const int per_object = 90;
  m.resize(size_t(per_object) * LanguageScene::kClasses);
  for (int o = 0; o < LanguageScene::kClasses; ++o)
    for (int g = 0; g < per_object; ++g) {
      const size_t i = size_t(o) * per_object + g;
      glm::vec3 p;
      do p = {rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(-1, 1)};
      while (glm::length(p) > 1.0f);
      p = centres[o] + 0.5f * p * glm::vec3(1.0f, 1.4f, 1.0f);
      for (int d = 0; d < 3; ++d) {
        m.means[i * 3 + d] = p[d];
        m.log_scales[i * 3 + d] = std::log(rng.uniform(0.08f, 0.16f));
      }
      const glm::quat q = glm::normalize(glm::quat(rng.normal(), rng.normal(), rng.normal(), rng.normal()));
      m.rotations[i * 4] = q.w;
      m.rotations[i * 4 + 1] = q.x;
      m.rotations[i * 4 + 2] = q.y;
      m.rotations[i * 4 + 3] = q.z;
      m.opacities[i] = rng.uniform(2.0f, 4.0f);
      for (int c = 0; c < 3; ++c) m.sh[i * 3 + c] = rng.uniform(-1.5f, 1.5f);
      s.object_of.push_back(o);
      s.part_of.push_back(2 * o + (p.y < centres[o].y ? 0 : 1));  // upper / lower half
    }
  auto add_flat = [&](glm::vec3 p, glm::vec3 scale, int id) {
    const size_t i = m.size();
    m.resize(i + 1);
    for (int d = 0; d < 3; ++d) {
      m.means[i * 3 + d] = p[d];
      m.log_scales[i * 3 + d] = std::log(scale[d]);
    }
    m.rotations[i * 4] = 1.0f;
    m.opacities[i] = 4.0f;
    for (int c = 0; c < 3; ++c) m.sh[i * 3 + c] = rng.uniform(-1.0f, 1.0f);
    s.object_of.push_back(id);
    s.part_of.push_back(-1);
  };
  for (float x = -3.2f; x <= 3.2f; x += 0.3f)  // floor just below the objects (world y is down)
    for (float z = -3.2f; z <= 3.2f; z += 0.3f)
      if (x * x + z * z < 3.3f * 3.3f) add_flat({x + rng.uniform(-0.05f, 0.05f), 0.75f, z}, {0.25f, 0.03f, 0.25f}, 4);
  for (int a = 0; a < 48; ++a)  // a low wall around the floor's rim
    for (float y = -0.2f; y <= 0.8f; y += 0.4f) {
      const float ang = 2.0f * float(M_PI) * float(a) / 48.0f;
      add_flat({3.4f * std::cos(ang), y, 3.4f * std::sin(ang)}, {0.3f, 0.3f, 0.3f}, 5);
    }
  for (int c = 0; c < LanguageScene::kClasses + LanguageScene::kBackdrops; ++c) {
    const auto e = random_unit(rng, dims);
    s.class_embeddings.insert(s.class_embeddings.end(), e.begin(), e.end());
  }
  s.generic = random_unit(rng, dims);
  for (int c = 0; c < 4; ++c) {
    const auto e = random_unit(rng, dims);
    for (int d = 0; d < dims; ++d) s.canonical_embeddings.push_back(s.generic[size_t(d)] + 0.3f * e[size_t(d)]);
  }
  // Id maps: one-hot object channels blended; a pixel belongs to the object with the most
  // weight when the pixel is mostly covered.
  auto rast = make_cpu_rasterizer();
  const int E = LanguageScene::kClasses + LanguageScene::kBackdrops;
  std::vector<float> onehot(m.size() * E, 0.0f);
  for (size_t i = 0; i < m.size(); ++i) onehot[i * E + size_t(s.object_of[i])] = 1.0f;
  GaussianParams p = params_of(m);
  p.extra_channels = E;
  p.extras = onehot.data();
  RenderOptions ro;
  ro.sh_degree = 0;
  for (int v = 0; v < views; ++v) {
    s.cameras.push_back(ring_camera(v, views, width, height));
    const RenderOutput out = rast->forward(s.cameras.back(), p, ro);
    std::vector<int> ids(size_t(width) * height, -1);
    for (size_t px = 0; px < ids.size(); ++px) {
      if (out.alpha.pixels[px] < 0.5f) continue;
      const float* e = out.extras.pixels.data() + px * E;
      ids[px] = int(std::max_element(e, e + E) - e);
    }
    s.object_map.push_back(std::move(ids));
  }
  return s;
}

// Writes <dir>/<stem>_f.npy and _s.npy for view v (4 planes: default = level m, s, m, l).
inline void write_language_inputs(const LanguageScene& s, int v, const std::string& dir, uint64_t seed,
                                  float noise = 0.35f) {
  Rng rng(seed * 1000 + uint64_t(v));
  const Camera& cam = s.cameras[size_t(v)];
  const int W = cam.width, H = cam.height, D = s.dims;
  // Part ids of this view: render again with part one-hots is unnecessary; parts are the
  // object's upper/lower half in image rows split at the object's mask centre row.
  const std::vector<int>& obj = s.object_map[size_t(v)];
  std::vector<double> row_sum(LanguageScene::kClasses + LanguageScene::kBackdrops, 0), count(row_sum.size(), 0);
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x)
      if (const int o = obj[size_t(y) * W + x]; o >= 0) row_sum[size_t(o)] += y, count[size_t(o)] += 1;
  std::vector<float> feats;
  auto add_row = [&](const std::vector<float>& base) {
    std::vector<float> n = random_unit(rng, D);
    const int r = int(feats.size() / size_t(D));
    for (int d = 0; d < D; ++d) feats.push_back(base[size_t(d)] + 0.6f * s.generic[size_t(d)] + noise * n[size_t(d)]);
    return r;
  };
  auto class_vec = [&](int c) {
    return std::vector<float>(s.class_embeddings.begin() + size_t(c) * D, s.class_embeddings.begin() + size_t(c + 1) * D);
  };
  // Rows: level m (objects), level s (parts), level l (groups); the default plane reuses m.
  std::vector<int> row_m(LanguageScene::kClasses), row_s(2 * LanguageScene::kClasses), row_l(2);
  for (int c = 0; c < LanguageScene::kClasses; ++c) row_m[size_t(c)] = add_row(class_vec(c));
  int row_backdrop[LanguageScene::kBackdrops];
  for (int b = 0; b < LanguageScene::kBackdrops; ++b) row_backdrop[b] = add_row(class_vec(LanguageScene::kClasses + b));
  for (int c = 0; c < 2 * LanguageScene::kClasses; ++c) row_s[size_t(c)] = add_row(class_vec(c / 2));
  for (int g = 0; g < 2; ++g) {
    std::vector<float> mean = class_vec(2 * g);
    const auto b = class_vec(2 * g + 1);
    for (int d = 0; d < D; ++d) mean[size_t(d)] = 0.5f * (mean[size_t(d)] + b[size_t(d)]);
    row_l[size_t(g)] = add_row(mean);
  }
  const size_t plane = size_t(W) * H;
  std::vector<float> planes(4 * plane, -1.0f);
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x) {
      const size_t px = size_t(y) * W + x;
      const int o = obj[px];
      if (o < 0) continue;
      if (o >= LanguageScene::kClasses) {  // backdrop: one segment at every level
        for (int k = 0; k < 4; ++k) planes[size_t(k) * plane + px] = float(row_backdrop[o - LanguageScene::kClasses]);
        continue;
      }
      const int part = 2 * o + (double(y) < row_sum[size_t(o)] / count[size_t(o)] ? 0 : 1);
      planes[px] = float(row_m[size_t(o)]);
      planes[plane + px] = float(row_s[size_t(part)]);
      planes[2 * plane + px] = float(row_m[size_t(o)]);
      planes[3 * plane + px] = float(row_l[size_t(o / 2)]);
    }
  write_language_targets(dir, cam.name, feats, D, planes, 4, W, H);
}

// Phrase embeddings as `sparsplat query` reads them: <stem>.npy [M, D] + <stem>.json.
inline void write_text_embeddings(const LanguageScene& s, const std::string& npy_path) {
  std::vector<float> rows(s.class_embeddings.begin(), s.class_embeddings.begin() + size_t(LanguageScene::kClasses) * s.dims);
  rows.insert(rows.end(), s.canonical_embeddings.begin(), s.canonical_embeddings.end());
  write_npy(npy_path, {size_t(LanguageScene::kClasses + 4), size_t(s.dims)}, rows.data());
  std::ofstream(std::filesystem::path(npy_path).replace_extension(".json"))
      << R"(["class 0", "class 1", "class 2", "class 3", "object", "things", "stuff", "texture"])";
}

// The scene as a COLMAP text dataset (images rendered from the true model).
inline void write_language_scene_colmap(const LanguageScene& s, const std::string& dir) {
  std::filesystem::create_directories(std::filesystem::path(dir) / "images");
  std::filesystem::create_directories(std::filesystem::path(dir) / "sparse/0");
  const Camera& c0 = s.cameras.front();
  std::ofstream(std::filesystem::path(dir) / "sparse/0/cameras.txt")
      << "1 PINHOLE " << c0.width << " " << c0.height << " " << c0.fx << " " << c0.fy << " " << c0.cx << " " << c0.cy << "\n";
  std::ofstream imgs(std::filesystem::path(dir) / "sparse/0/images.txt"), pts(std::filesystem::path(dir) / "sparse/0/points3D.txt");
  auto rast = make_cpu_rasterizer();
  RenderOptions ro;
  ro.sh_degree = 0;
  for (size_t v = 0; v < s.cameras.size(); ++v) {
    const Camera& c = s.cameras[v];
    save_png((std::filesystem::path(dir) / "images" / c.name).string(), rast->forward(c, params_of(s.model), ro).color);
    const glm::quat q = glm::quat_cast(c.R);
    imgs << v + 1 << " " << q.w << " " << q.x << " " << q.y << " " << q.z << " " << c.t.x << " " << c.t.y << " " << c.t.z
         << " 1 " << c.name << "\n\n";
  }
  for (size_t i = 0; i < s.model.size(); i += 7) {
    pts << i + 1 << " " << s.model.means[i * 3] << " " << s.model.means[i * 3 + 1] << " " << s.model.means[i * 3 + 2]
        << " 128 128 128 0";
    for (size_t v = 0; v < s.cameras.size(); ++v) pts << " " << v + 1 << " 0";
    pts << "\n";
  }
}

}  // namespace sp::test
