// Blender / nerfstudio transforms.json. Frames name images relative to the file: the scratch
// folder holds a tiny PNG under every name the seeds use ({train,test,val}/r_N.png, N < 200),
// so mutations get past the image lookup to the intrinsics and poses.
#include <filesystem>

#include "engine/core/image.h"
#include "engine/io/blender.h"
#include "engine/io/image_io.h"
#include "fuzz_target.h"

namespace {
const std::string& json_path() {
  static const std::string path = [] {
    namespace fs = std::filesystem;
    const std::string dir = sp::fuzz::scratch_dir();
    const std::string first = dir + "/r.png";
    sp::save_png(first, sp::Image(4, 3, 3, 0.5f));
    for (const char* split : {"train", "test", "val"}) {
      fs::create_directories(dir + "/" + split);
      for (int i = 0; i < 200; ++i) fs::create_hard_link(first, dir + "/" + split + "/r_" + std::to_string(i) + ".png");
    }
    return dir + "/transforms.json";
  }();
  return path;
}
}  // namespace

SPARSPLAT_FUZZ_TARGET(sp::parse_transforms(bytes, json_path()))
