// Writes the display benchmarks' synthetic load (bench/random_frustum_scene.h: N Gaussians in
// a camera's frustum, SH degree 3) as a model file and that camera as cameras.json, so
// bench/viewer_fps.sh can time sparsplat-view on it.
//
//   bench_viewer_scene OUT_DIR [--gaussians 100000] [--width 800] [--height 600]
//   -> OUT_DIR/scene.ply, OUT_DIR/cameras.json (one camera, the scene's)
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "bench/random_frustum_scene.h"
#include "engine/io/cameras_json.h"
#include "engine/io/model_file.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_viewer_scene OUT_DIR [--gaussians N] [--width W] [--height H]\n");
    return 2;
  }
  const std::string out = argv[1];
  size_t n = 100000;
  int width = 800, height = 600;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--gaussians") n = std::strtoul(argv[i + 1], nullptr, 10);
    else if (a == "--width") width = std::atoi(argv[i + 1]);
    else if (a == "--height") height = std::atoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "error: unknown option %s\n", a.c_str());
      return 2;
    }
  }
  sp::Camera cam;
  sp::GaussianModel model;
  // Splats about 2 px across on average (as bench_display's 100k rows), SH rest 0.1.
  sp::bench::random_frustum_scene(n, width, height, cam, model, 0.5f, 0.1f);
  std::filesystem::create_directories(out);
  sp::write_gaussian_model(out + "/scene.ply", model);
  sp::write_cameras_json(out + "/cameras.json", {cam});
  std::printf("%zu Gaussians, camera %dx%d -> %s/scene.ply, %s/cameras.json\n", n, width, height, out.c_str(),
              out.c_str());
  return 0;
}
