// COLMAP datasets: sparse/0 (or sparse/, or the folder itself) with cameras, images and
// points3D in text or binary form, photos in images/ or images_N/. Views are sorted by image
// name; tracks map points to views; each COLMAP camera is a lens (one undistortion map).
#include <algorithm>
#include <unordered_map>

#include "engine/core/error.h"
#include "engine/core/log.h"
#include "engine/io/colmap.h"
#include "engine/io/image_folder.h"
#include "engine/scene/format_loader.h"

namespace sp::format_loader {
namespace fs = std::filesystem;

std::string find_colmap_dir(const std::string& root) {
  for (const fs::path& p : {fs::path(root) / "sparse" / "0", fs::path(root) / "sparse", fs::path(root)})
    if (has_colmap_file(p.string(), "cameras")) return p.string();
  return {};
}

PointCloud colmap_points(const ColmapPoints& p, const std::unordered_map<uint32_t, int>* view_of_image,
                         size_t& unmapped) {
  PointCloud pc;
  pc.xyz.resize(p.xyz.size());
  pc.rgb.resize(p.rgb.size());
  for (size_t i = 0; i < p.xyz.size(); ++i) pc.xyz[i] = float(p.xyz[i]);
  for (size_t i = 0; i < p.rgb.size(); ++i) pc.rgb[i] = float(p.rgb[i]) / 255.0f;
  unmapped = 0;
  if (view_of_image) {
    pc.has_tracks = true;
    pc.tracks.resize(p.size());
    for (size_t i = 0; i < p.size(); ++i) {
      auto& t = pc.tracks[i];
      for (uint64_t k = p.track_offsets[i]; k < p.track_offsets[i + 1]; ++k) {
        const auto it = view_of_image->find(p.track_image_ids[k]);
        if (it == view_of_image->end()) {
          ++unmapped;
          continue;
        }
        t.push_back(it->second);
      }
      std::sort(t.begin(), t.end());
      t.erase(std::unique(t.begin(), t.end()), t.end());
    }
  }
  return pc;
}

namespace {

// Image file of each COLMAP image name in the chosen folder: the same name, else the same
// stem with another image extension, else (LLFF's images_N folders rename the files to
// image000.png...) by sorted order when the counts agree.
std::vector<std::string> match_colmap_images(const std::vector<std::string>& names, const ImageFolder& folder,
                                             const std::string& images_file) {
  std::vector<std::string> paths;
  size_t missing = 0;
  std::string first_missing;
  for (const auto& n : names) {
    const fs::path exact = fs::path(folder.path) / n;
    std::string found = is_file(exact) ? exact.string() : std::string();
    for (const char* e : {".png", ".jpg", ".jpeg", ".PNG", ".JPG", ".JPEG"}) {
      if (!found.empty()) break;
      fs::path alt = exact;
      alt.replace_extension(e);
      if (is_file(alt)) found = alt.string();
    }
    if (found.empty() && missing++ == 0) first_missing = exact.string();
    paths.push_back(found);
  }
  if (missing == 0) return paths;
  const auto files = list_image_files(folder.path);
  if (files.size() == names.size()) {
    log_info(folder.path + ": " + std::to_string(missing) + " image names of " + images_file +
             " are not there (e.g. " + fs::path(first_missing).filename().string() + "); matching its " +
             std::to_string(files.size()) + " files by sorted name order");
    for (size_t i = 0; i < names.size(); ++i) paths[i] = (fs::path(folder.path) / files[i]).string();
    return paths;
  }
  throw_bad_input(first_missing, "image listed in " + images_file + " not found (" + std::to_string(missing) + " of " +
                                     std::to_string(names.size()) + " missing; the folder holds " +
                                     std::to_string(files.size()) + " images)");
}

}  // namespace

Loaded load_colmap(const std::string& root, const std::string& model_dir, int downscale) {
  const ColmapModel model = read_colmap_model(model_dir);
  Loaded L;
  L.format = "colmap";
  std::vector<const ColmapImage*> order;
  for (const auto& im : model.images) order.push_back(&im);
  std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->name < b->name; });
  if (order.empty()) throw_bad_input(model.images_file, "no images (expected at least one registered image)");
  for (size_t i = 1; i < order.size(); ++i)
    if (order[i]->name == order[i - 1]->name) throw_bad_input(model.images_file, "image name '" + order[i]->name + "' appears twice");

  const ImageFolder folder = choose_image_folder(root, downscale);
  L.note = "images from " + folder.name + "/";
  std::vector<std::string> names;
  for (auto* im : order) names.push_back(im->name);
  const auto paths = match_colmap_images(names, folder, model.images_file);

  std::unordered_map<uint32_t, const ColmapCamera*> cams;
  for (const auto& c : model.cameras) cams[c.id] = &c;
  std::unordered_map<uint32_t, int> view_of_image;
  for (size_t i = 0; i < order.size(); ++i) {
    const ColmapImage& im = *order[i];
    const ColmapIntrinsics in = colmap_intrinsics(*cams.at(im.camera_id), model.cameras_file);
    View v;
    v.camera = in.camera;
    v.camera.name = im.name;
    set_colmap_pose(v.camera, im, model.images_file);
    v.distortion = in.distortion;
    v.lens = int(im.camera_id);
    v.path = paths[i];
    L.views.push_back(std::move(v));
    view_of_image[im.id] = int(i);
  }
  if (model.has_points) {
    size_t unmapped = 0;
    L.points = colmap_points(model.points, &view_of_image, unmapped);
    if (unmapped)
      log_warn(model.points_file + ": " + std::to_string(unmapped) + " track entries name images that " +
               model.images_file + " lacks; ignored");
  }
  // A split.json naming one scene (the synthetic generator writes one beside its COLMAP
  // output) gives the split rule; otherwise the LLFF/Mip-NeRF hold-out rule.
  if (const fs::path split_file = fs::path(root) / "split.json"; is_file(split_file)) {
    const auto scenes = read_spare_split(split_file.string());
    if (scenes.size() != 1) throw_bad_input(split_file.string(), "expected exactly one scene in the split file");
    L.split_rule.kind = SplitRule::Kind::split_file;
    L.split_rule.file = split_file.string();
    L.split_rule.scene = scenes.begin()->first;
    L.split_rule.file_views = scenes.begin()->second;
    L.split_rule.ascending = false;
  }
  return L;
}

}  // namespace sp::format_loader
