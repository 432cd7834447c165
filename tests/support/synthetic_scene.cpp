#include "support/synthetic_scene.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <glm/gtc/quaternion.hpp>

#include "engine/core/rng.h"
#include "engine/eval/metrics.h"
#include "engine/io/image_io.h"
#include "engine/render/rasterizer.h"
#include "engine/scene/initialization.h"

namespace sp::test {

GaussianModel write_synthetic_colmap_scene(const std::string& dir, const SyntheticSceneOptions& o) {
  namespace fs = std::filesystem;
  fs::create_directories(fs::path(dir) / "images");
  fs::create_directories(fs::path(dir) / "sparse" / "0");
  Rng rng(o.seed);

  // Coloured blobs in a ball of radius 1 around the origin, SH degree 1 for a little
  // view dependence.
  GaussianModel truth;
  truth.sh_degree = 1;
  truth.resize(size_t(o.gaussians));
  for (size_t i = 0; i < truth.size(); ++i) {
    glm::vec3 p;
    do p = {rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(-1, 1)};
    while (glm::length(p) > 1.0f);
    for (int d = 0; d < 3; ++d) {
      truth.means[i * 3 + size_t(d)] = p[d];
      truth.log_scales[i * 3 + size_t(d)] = std::log(rng.uniform(0.04f, 0.15f));
    }
    const glm::quat q = glm::normalize(glm::quat(rng.normal(), rng.normal(), rng.normal(), rng.normal()));
    truth.rotations[i * 4] = q.w;
    truth.rotations[i * 4 + 1] = q.x;
    truth.rotations[i * 4 + 2] = q.y;
    truth.rotations[i * 4 + 3] = q.z;
    truth.opacities[i] = rng.uniform(0.5f, 3.0f);
    for (int k = 0; k < 4 * 3; ++k) truth.sh[i * 12 + size_t(k)] = k < 3 ? rng.uniform(-1.5f, 1.5f) : rng.normal(0, 0.2f);
  }

  auto rasterizer = make_cpu_rasterizer();
  RenderOptions ro;
  ro.sh_degree = 1;
  std::ofstream cams(fs::path(dir) / "sparse/0/cameras.txt"), imgs(fs::path(dir) / "sparse/0/images.txt"),
      pts(fs::path(dir) / "sparse/0/points3D.txt");
  const float f = 0.9f * float(o.width);
  cams << "# Camera list\n1 PINHOLE " << o.width << " " << o.height << " " << f << " " << f << " " << 0.5f * o.width
       << " " << 0.5f * o.height << "\n";
  imgs << "# Image list\n";
  for (int v = 0; v < o.views; ++v) {
    // On a ring of radius 4 at a little elevation, looking at the origin.
    const float a = 2.0f * float(M_PI) * float(v) / float(o.views);
    const glm::vec3 c(4.0f * std::cos(a), 0.8f * std::sin(3.0f * a), 4.0f * std::sin(a));
    const glm::vec3 fwd = glm::normalize(-c);
    const glm::vec3 right = glm::normalize(glm::cross(fwd, glm::vec3(0, -1, 0)));
    const glm::vec3 down = glm::cross(fwd, right);
    Camera cam;
    cam.width = o.width;
    cam.height = o.height;
    cam.fx = cam.fy = f;
    cam.cx = 0.5f * float(o.width);
    cam.cy = 0.5f * float(o.height);
    cam.R = glm::transpose(glm::mat3(right, down, fwd));  // rows: camera axes in world
    cam.t = -cam.R * c;
    char name[32];
    std::snprintf(name, sizeof name, "view_%03d.png", v);
    const RenderOutput out = rasterizer->forward(cam, params_of(truth), ro);
    save_png((fs::path(dir) / "images" / name).string(), out.color);
    const glm::quat q = glm::quat_cast(cam.R);
    imgs << v + 1 << " " << q.w << " " << q.x << " " << q.y << " " << q.z << " " << cam.t.x << " " << cam.t.y << " "
         << cam.t.z << " 1 " << name << "\n\n";
  }
  pts << "# 3D point list\n";
  for (size_t i = 0; i < truth.size(); ++i) {
    pts << i + 1 << " " << truth.means[i * 3] << " " << truth.means[i * 3 + 1] << " " << truth.means[i * 3 + 2];
    for (int c = 0; c < 3; ++c) {
      const float rgb = std::clamp(kSHC0 * truth.sh[i * 12 + size_t(c)] + 0.5f, 0.0f, 1.0f);
      pts << " " << int(std::lround(rgb * 255.0f));
    }
    pts << " 0";
    for (int v = 0; v < o.views; ++v) pts << " " << v + 1 << " 0";
    pts << "\n";
  }
  return truth;
}

GaussianModel random_start(const Dataset& data, size_t points, int sh_degree, uint64_t seed) {
  InitOptions init;
  init.sh_degree = sh_degree;
  init.random_points = points;
  init.seed = seed;
  return gaussians_from_points(random_points_in_view_volume(data, init), init);
}

double mean_test_psnr(const Dataset& data, const GaussianModel& model, int sh_degree) {
  auto r = make_cpu_rasterizer();
  RenderOptions ro;
  ro.sh_degree = sh_degree;
  double sum = 0;
  for (int id : data.test_ids) sum += psnr(r->forward(data.cameras[size_t(id)], params_of(model), ro).color, data.image(id));
  return sum / double(data.test_ids.size());
}

}  // namespace sp::test
