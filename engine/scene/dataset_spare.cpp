// DTU / SpaRe scenes: cameras from pos_XXX.txt, images cam_XXX_L_0000.png / rect_XXX_L_r5000.png,
// masks from mask/ (engine/io/spare.h). Split rule: the scene's split file (train = the first
// N input views), else DTU's sparse-view protocol for 49+ views, else the LLFF hold-out rule.
#include "engine/scene/format_loader.h"

namespace sp::format_loader {

Loaded load_spare(const std::string& scene_dir) {
  const SpareScene s = read_spare_scene(scene_dir);
  Loaded L;
  L.format = "spare";
  size_t masks = 0;
  for (const SpareView& v : s.views) {
    View w;
    w.camera = v.camera;
    w.path = v.image_path;
    L.views.push_back(std::move(w));
    L.masks.push_back(v.mask_path);
    masks += !v.mask_path.empty();
  }
  if (masks == 0) L.masks.clear();
  if (s.has_split) {
    L.split_rule.kind = SplitRule::Kind::split_file;
    L.split_rule.file_views = s.split;
    L.split_rule.file = s.split_file;
    L.split_rule.scene = s.name;
  } else {
    L.split_rule.kind = SplitRule::Kind::dtu_when_49;
  }
  L.note = "DTU/SpaRe scene '" + s.name + "', lighting " + std::to_string(s.lighting) +
           (s.lightings.size() > 1 ? " (of " + std::to_string(s.lightings.size()) + " found)" : std::string()) +
           (masks ? ", " + std::to_string(masks) + " object masks" : std::string());
  return L;
}

}  // namespace sp::format_loader
