// Dataset::load: detect the format, read cameras/points through engine/io, check every
// image file's header, fix the working resolution, apply the split protocol and restrict
// the SfM points to the train views. Pixels are decoded later, on demand (Dataset::image).
#include "engine/scene/dataset.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>

#include "engine/core/atomic_file.h"
#include "engine/core/error.h"
#include "engine/core/log.h"
#include "engine/io/blender.h"
#include "engine/io/colmap.h"
#include "engine/io/image_folder.h"
#include "engine/io/image_header.h"
#include "engine/io/image_io.h"
#include "engine/io/llff.h"
#include "engine/io/npy.h"
#include "engine/io/spare.h"
#include "engine/io/undistort.h"
#include "engine/scene/dataset_split.h"
#include "engine/scene/image_cache.h"

namespace sp {
namespace fs = std::filesystem;

// ---- pixels ----

struct Dataset::ImageSource {
  struct View {
    std::string path;
    int disk_width = 0, disk_height = 0;  // size of the file (checked at load)
    int width = 0, height = 0;            // working size (cameras[i])
    Camera disk_camera;                   // intrinsics at the file's size
    Distortion distortion;
    int lens = -1;  // views with the same lens and file size share an undistortion map
  };
  std::vector<View> views;
  float background[3] = {1, 1, 1};
  LruCache<Image> images;
  LruCache<UndistortMap> maps;

  ImageSource(size_t image_budget, size_t map_budget) : images(image_budget), maps(map_budget) {}

  std::shared_ptr<const Image> get(int i) {
    return images.get(
        uint64_t(i), [&] { return std::make_shared<const Image>(decode(views[size_t(i)])); },
        [](const Image& im) { return im.pixels.size() * sizeof(float); });
  }

  Image decode(const View& v) {
    Image img = load_image(v.path);
    if (img.width != v.disk_width || img.height != v.disk_height)
      throw_bad_input(v.path, "decodes to " + std::to_string(img.width) + "x" + std::to_string(img.height) +
                                  " but its header said " + std::to_string(v.disk_width) + "x" +
                                  std::to_string(v.disk_height) + " at load (file changed?)");
    img = to_rgb(std::move(img));
    if (v.lens >= 0) {
      const Camera& c = v.disk_camera;
      const auto map = maps.get(
          uint64_t(v.lens),
          [&] {
            auto m = std::make_shared<const UndistortMap>(
                make_undistort_map(c.width, c.height, c.fx, c.fy, c.cx, c.cy, v.distortion));
            const double frac = double(m->outside) / (double(c.width) * c.height);
            if (frac > 0.001)
              log_warn(v.path + ": " + std::to_string(int(std::lround(frac * 1000)) / 10.0).substr(0, 4) +
                       "% of the undistorted image lies outside the photo (" + v.distortion.describe() +
                       "); those pixels repeat the edge");
            return m;
          },
          [](const UndistortMap& m) { return m.bytes(); });
      img = undistort_image(img, *map);
    }
    if (img.width != v.width || img.height != v.height) img = resize_image(img, v.width, v.height);
    return img;
  }

  Image to_rgb(Image img) const {
    if (img.channels == 3) return img;
    if (img.channels == 4) return composite_rgba(img, background[0], background[1], background[2]);
    Image rgba(img.width, img.height, 4);
    for (size_t p = 0; p < img.pixel_count(); ++p) {
      const float g = img.pixels[p * size_t(img.channels)];
      rgba.pixels[4 * p] = rgba.pixels[4 * p + 1] = rgba.pixels[4 * p + 2] = g;
      rgba.pixels[4 * p + 3] = img.channels == 2 ? img.pixels[p * 2 + 1] : 1.0f;
    }
    return composite_rgba(rgba, background[0], background[1], background[2]);
  }
};

std::shared_ptr<const Image> Dataset::image_ptr(int view) const {
  if (!source) throw_internal("Dataset::image on a dataset that was not loaded");
  if (view < 0 || size_t(view) >= size())
    throw_bad_input(root, "view " + std::to_string(view) + " is out of range (the dataset has " + std::to_string(size()) +
                              " views)");
  return source->get(view);
}

Image Dataset::image(int view) const { return *image_ptr(view); }

Image Dataset::mask(int view) const {
  if (view < 0 || size_t(view) >= size())
    throw_bad_input(root, "view " + std::to_string(view) + " is out of range (the dataset has " + std::to_string(size()) +
                              " views)");
  if (mask_paths.empty() || mask_paths[size_t(view)].empty()) return {};
  const Image file = load_image(mask_paths[size_t(view)]);
  Image m(file.width, file.height, 1);
  for (size_t p = 0; p < m.pixel_count(); ++p) m.pixels[p] = file.pixels[p * size_t(file.channels)];
  const Camera& c = cameras[size_t(view)];
  if (m.width != c.width || m.height != c.height) m = resize_image(m, c.width, c.height);
  return m;
}

float Dataset::scene_extent() const {
  std::vector<int> ids = train_ids;
  if (ids.empty())
    for (size_t i = 0; i < size(); ++i) ids.push_back(int(i));
  // INRIA's getNerfppNorm: 1.1 x the largest distance of a camera centre from their mean.
  // A single camera (or coincident ones) has no spread; 1.0 then keeps the thresholds that
  // scale with the extent (densification, learning rates) at their unit-scene values.
  if (ids.size() < 2) return 1.0f;
  glm::dvec3 mean(0.0);
  for (int i : ids) mean += glm::dvec3(cameras[size_t(i)].center());
  mean /= double(ids.size());
  double radius = 0;
  for (int i : ids) radius = std::max(radius, glm::length(glm::dvec3(cameras[size_t(i)].center()) - mean));
  if (!(radius > 1e-9)) return 1.0f;
  return float(1.1 * radius);
}

// ---- loading ----
namespace {

// What a format loader hands to the common part of Dataset::load.
struct View {
  Camera camera;  // pinhole intrinsics at `camera.width x camera.height`, pose set, name set
  Distortion distortion;
  int lens = -1;  // same lens id => same intrinsics and distortion (shares an undistortion map)
  std::string path;
};
struct Loaded {
  std::string format;
  std::vector<View> views;
  PointCloud points;          // tracks are view indices when has_tracks
  std::vector<glm::vec2> bounds;
  Split split;                // the protocol's split
  double downscale = 1;       // still to apply to the files' size
  std::string note;           // where the images came from, for the log
  std::vector<std::string> masks;  // per view ("" = none); empty when the format has no masks
};

std::string find_colmap_dir(const std::string& root) {
  for (const fs::path& p : {fs::path(root) / "sparse" / "0", fs::path(root) / "sparse", fs::path(root)})
    if (has_colmap_file(p.string(), "cameras")) return p.string();
  return {};
}

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
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

// The split a SpaRe split file gives: train = the first N input views (N = --train-views),
// or every non-test view when N = 0.
Split split_from_spare_json(const SpareSplit& sp, int n, int train_views, const std::string& file,
                            const std::string& scene) {
  Split split;
  const auto& in = sp.input_views;
  split.test = sp.test_views;
  for (int id : split.test)
    if (id < 0 || id >= n) throw_bad_input(file, "test view " + std::to_string(id) + " is out of range (0.." + std::to_string(n - 1) + ")");
  if (train_views > 0) {
    if (size_t(train_views) > in.size())
      throw_bad_input(file, "scene '" + scene + "' has " + std::to_string(in.size()) + " input views; " +
                                std::to_string(train_views) + " train views were asked for");
    split.train.assign(in.begin(), in.begin() + train_views);
    for (int id : split.train)
      if (id < 0 || id >= n) throw_bad_input(file, "input view " + std::to_string(id) + " is out of range (0.." + std::to_string(n - 1) + ")");
    split.protocol = "SpaRe split of " + file + ": train = the first " + std::to_string(train_views) +
                     " input views " + list_text(split.train) + ", test = its test views";
  } else {
    for (int i = 0; i < n; ++i)
      if (std::find(split.test.begin(), split.test.end(), i) == split.test.end()) split.train.push_back(i);
    split.protocol = "SpaRe split of " + file + ": test = its test views, train = all other views";
  }
  return split;
}

Loaded load_colmap(const std::string& root, const std::string& model_dir, const DatasetOptions& opt) {
  const ColmapModel model = read_colmap_model(model_dir);
  Loaded L;
  L.format = "colmap";
  std::vector<const ColmapImage*> order;
  for (const auto& im : model.images) order.push_back(&im);
  std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->name < b->name; });
  if (order.empty()) throw_bad_input(model.images_file, "no images (expected at least one registered image)");
  for (size_t i = 1; i < order.size(); ++i)
    if (order[i]->name == order[i - 1]->name) throw_bad_input(model.images_file, "image name '" + order[i]->name + "' appears twice");

  const ImageFolder folder = choose_image_folder(root, opt.downscale);
  L.downscale = folder.remaining;
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
  // output) gives the protocol; otherwise the LLFF/Mip-NeRF hold-out rule.
  if (const fs::path split_file = fs::path(root) / "split.json"; is_file(split_file)) {
    const auto scenes = read_spare_split(split_file.string());
    if (scenes.size() != 1) throw_bad_input(split_file.string(), "expected exactly one scene in the split file");
    L.split = split_from_spare_json(scenes.begin()->second, int(L.views.size()), opt.train_views, split_file.string(),
                                    scenes.begin()->first);
  } else {
    L.split = holdout_split(int(L.views.size()), opt.train_views, root);
  }
  return L;
}

Loaded load_llff(const std::string& root, const DatasetOptions& opt) {
  const LlffScene s = read_llff(root, opt.downscale);
  Loaded L;
  L.format = "llff";
  L.downscale = s.folder.remaining;
  L.note = "poses from poses_bounds.npy, images from " + s.folder.name + "/";
  for (size_t i = 0; i < s.views.size(); ++i) {
    View v;
    v.camera = s.views[i].camera;
    v.path = s.image_paths[i];
    L.views.push_back(std::move(v));
    L.bounds.emplace_back(s.views[i].near, s.views[i].far);
  }
  // LLFF's sparse/0 holds cameras + points3D but usually no images.bin: the points cannot be
  // tied to views (has_tracks stays false).
  const std::string model_dir = find_colmap_dir(root);
  if (!model_dir.empty()) {
    for (const char* ext : {".bin", ".txt"}) {
      const fs::path p = fs::path(model_dir) / (std::string("points3D") + ext);
      if (!is_file(p)) continue;
      const std::string bytes = read_file(p.string());
      const ColmapPoints pts = std::string(ext) == ".bin" ? parse_colmap_points_bin(bytes, p.string())
                                                          : parse_colmap_points_txt(bytes, p.string());
      size_t unmapped = 0;
      L.points = colmap_points(pts, nullptr, unmapped);
      L.note += ", points from " + p.filename().string() + " (no tracks)";
      break;
    }
  }
  L.split = holdout_split(int(L.views.size()), opt.train_views, root);
  return L;
}

Loaded load_blender(const std::string& root, const DatasetOptions& opt) {
  Loaded L;
  L.format = "blender";
  L.downscale = opt.downscale > 0 ? opt.downscale : 1;
  const fs::path train = fs::path(root) / "transforms_train.json", test = fs::path(root) / "transforms_test.json";
  std::vector<TransformsFrame> frames;
  if (is_file(train)) {
    frames = read_transforms(train.string());
    const size_t n_train = frames.size();
    size_t n_test = 0;
    if (is_file(test)) {
      auto t = read_transforms(test.string());
      n_test = t.size();
      for (auto& f : t) frames.push_back(std::move(f));
    }
    if (n_train == 0) throw_bad_input(train.string(), "no frames (expected at least one)");
    L.split = blender_split(int(n_train), int(n_test), opt.train_views, root);
    L.note = "transforms_train.json (" + std::to_string(n_train) + ") + transforms_test.json (" + std::to_string(n_test) + ")";
  } else {
    const fs::path single = fs::path(root) / "transforms.json";
    frames = read_transforms(single.string());
    if (frames.empty()) throw_bad_input(single.string(), "no frames (expected at least one)");
    std::stable_sort(frames.begin(), frames.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    L.split = holdout_split(int(frames.size()), opt.train_views, root);
    L.note = "transforms.json";
  }
  // Frames with identical intrinsics and distortion share a lens (one undistortion map).
  std::vector<const TransformsFrame*> lenses;
  for (const auto& f : frames) {
    View v;
    v.camera = f.camera;
    v.distortion = f.distortion;
    v.path = f.path;
    if (!f.distortion.is_none()) {
      const auto same = [&](const TransformsFrame* o) {
        const Camera &a = o->camera, &b = f.camera;
        const Distortion &p = o->distortion, &q = f.distortion;
        return a.width == b.width && a.height == b.height && a.fx == b.fx && a.fy == b.fy && a.cx == b.cx &&
               a.cy == b.cy && p.model == q.model && p.k1 == q.k1 && p.k2 == q.k2 && p.p1 == q.p1 && p.p2 == q.p2 &&
               p.k3 == q.k3;
      };
      const auto it = std::find_if(lenses.begin(), lenses.end(), same);
      v.lens = int(it - lenses.begin());
      if (it == lenses.end()) lenses.push_back(&f);
    }
    L.views.push_back(std::move(v));
  }
  return L;
}

// DTU / SpaRe: cameras from pos_XXX.txt, images cam_XXX_L_0000.png / rect_XXX_L_r5000.png,
// masks from mask/; split from the scene's split JSON (train = the first N input views),
// else DTU's sparse-view protocol for 49+ views, else the LLFF hold-out rule.
Loaded load_spare(const std::string& root, const std::string& scene_dir, const DatasetOptions& opt) {
  const SpareScene s = read_spare_scene(scene_dir);
  Loaded L;
  L.format = "spare";
  L.downscale = opt.downscale > 0 ? opt.downscale : 1;
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
  const int n = int(L.views.size());
  Split split;
  if (s.has_split) {
    split = split_from_spare_json(s.split, n, opt.train_views, s.split_file, s.name);
  } else if (n >= 49) {
    split = dtu_protocol_split(n, opt.train_views, root);
  } else {
    split = holdout_split(n, opt.train_views, root);
  }
  std::sort(split.train.begin(), split.train.end());
  std::sort(split.test.begin(), split.test.end());
  L.split = split;
  L.note = "DTU/SpaRe scene '" + s.name + "', lighting " + std::to_string(s.lighting) +
           (s.lightings.size() > 1 ? " (of " + std::to_string(s.lightings.size()) + " found)" : std::string()) +
           (masks ? ", " + std::to_string(masks) + " object masks" : std::string());
  return L;
}

// DTU in IDR/NeuS layout: images/000000.png... (image i = DTU view i, by sorted name),
// mask/{i:03d}.png (found by find_mask_files), and cameras_sphere.npz (NeuS) or cameras.npz
// (IDR) holding per view world_mat_i (4x4 or 3x4; its top 3x4 block is P = K [R | t]) and
// optionally scale_mat_i. As IDR/NeuS do, the cameras are taken in the normalized frame:
// P = (world_mat_i @ scale_mat_i)[:3, :4], where scale_mat_i maps the unit sphere onto the
// object's bounding sphere in DTU's world frame; so the object lies inside the unit sphere
// (x_dtu = scale_mat @ x_normalized) and every camera outside it. Without scale_mat_i the
// frame is DTU's own. P is decomposed by decompose_projection (engine/io/spare.h). The scene's
// sparse/0 (a COLMAP conversion, other frame) is not used: no SfM points, random init; the
// unit sphere gives each view's depth bounds (|C| - 1, |C| + 1).
std::string find_idr_cameras(const std::string& root) {
  std::error_code ec;
  if (!fs::is_directory(fs::path(root) / "images", ec)) return {};
  for (const char* name : {"cameras_sphere.npz", "cameras.npz"})
    if (const fs::path p = fs::path(root) / name; is_file(p)) return p.string();
  return {};
}

// matrix_key (e.g. "world_mat_3") of the archive as a row-major 4x4 (a 3x4 array gets the row
// [0 0 0 1]). BadInput naming the archive when it is absent (unless `optional`), has another
// shape, or a non-finite entry. Returns false for an absent optional matrix.
bool idr_matrix(const std::map<std::string, NpyArray>& npz, const std::string& key, const std::string& where,
                bool optional, std::array<double, 16>& m) {
  const auto it = npz.find(key);
  if (it == npz.end()) {
    if (optional) return false;
    throw_bad_input(where, key + " is missing (every view needs its projection matrix)");
  }
  const NpyArray& a = it->second;
  const bool shape_ok = a.ndim() == 2 && (a.shape[0] == 4 || a.shape[0] == 3) && a.shape[1] == 4;
  if (!shape_ok) {
    std::string shape;
    for (size_t d : a.shape) shape += (shape.empty() ? "" : "x") + std::to_string(d);
    throw_bad_input(where, key + " has shape " + (shape.empty() ? "()" : shape) + " (expected 4x4 or 3x4)");
  }
  m = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  for (size_t i = 0; i < a.size(); ++i) {
    if (!std::isfinite(a.data[i])) throw_bad_input(where, key + " has a non-finite entry");
    m[i] = a.data[i];
  }
  return true;
}

Loaded load_dtu(const std::string& root, const std::string& cameras_file, const DatasetOptions& opt) {
  Loaded L;
  L.format = "dtu";
  L.downscale = opt.downscale > 0 ? opt.downscale : 1;
  const std::map<std::string, NpyArray> npz = read_npz(cameras_file);
  const fs::path image_dir = fs::path(root) / "images";
  const std::vector<std::string> files = list_image_files(image_dir.string());
  if (files.empty()) throw_bad_input(image_dir.string(), "no images (expected images/000000.png...)");
  size_t scaled = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    const std::string index = std::to_string(i);
    const std::string where = cameras_file + " (view " + index + ", " + files[i] + ")";
    std::array<double, 16> W{}, S{};
    idr_matrix(npz, "world_mat_" + index, where, false, W);
    if (idr_matrix(npz, "scale_mat_" + index, where, true, S)) {
      ++scaled;
    } else {
      S = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
    }
    ProjectionMatrix P{};
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 4; ++c) {
        double v = 0;
        for (int k = 0; k < 4; ++k) v += W[size_t(r * 4 + k)] * S[size_t(k * 4 + c)];
        P[size_t(r * 4 + c)] = v;
      }
    const DecomposedProjection d = decompose_projection(P, where);
    View v;
    v.path = (image_dir / files[i]).string();
    const ImageInfo info = read_image_header(v.path);
    v.camera = camera_from_projection(d, files[i], info.width, info.height, where);
    const double dist = glm::length(-glm::transpose(d.R) * d.t);
    L.bounds.emplace_back(float(std::max(dist - 1.0, 0.01 * dist)), float(dist + 1.0));
    L.views.push_back(std::move(v));
  }
  if (scaled != 0 && scaled != files.size())
    throw_bad_input(cameras_file, std::to_string(scaled) + " of the " + std::to_string(files.size()) +
                                      " views have a scale_mat_i (expected all or none)");
  if (scaled == 0) L.bounds.clear();  // DTU's own frame: the unit sphere says nothing
  if (npz.count("world_mat_" + std::to_string(files.size())))
    log_warn(cameras_file + ": holds more world_mat_i than images/ has images (" + std::to_string(files.size()) +
             "); the extra cameras are ignored");
  const int n = int(L.views.size());
  L.split = n >= 49 ? dtu_protocol_split(n, opt.train_views, root) : holdout_split(n, opt.train_views, root);
  L.note = "DTU (IDR/NeuS) cameras from " + fs::path(cameras_file).filename().string() +
           (scaled ? " in the normalized frame (world_mat @ scale_mat: object inside the unit sphere)"
                   : " in DTU's frame (no scale_mat_i)");
  return L;
}

std::string format_hint() {
  return "expected sparse/0/{cameras,images}.{bin,txt} + images/ (COLMAP), cameras_sphere.npz / cameras.npz + images/ "
         "(DTU in IDR/NeuS layout), poses_bounds.npy + images/ or images_N/ "
         "(LLFF), transforms_train.json / transforms.json (Blender, nerfstudio), or pos_XXX.txt + cam_XXX_L_0000.png / "
         "rect_XXX_L_r5000.png (DTU, SpaRe)";
}

int rounded(double v) { return std::max(1, int(std::nearbyint(v))); }

}  // namespace

// Object masks beside a COLMAP/LLFF/Blender dataset: a mask/ or masks/ folder holding, per
// view, a file named like the image (any image extension) or by the view's index ({i:03d}.png,
// as DTU/IDR and our generator write). Masks of distorted photos would need the same
// undistortion as the photos, so they are left out there (with a note).
std::vector<std::string> find_mask_files(const std::string& root, const std::vector<std::string>& images,
                                         const std::vector<View>& views) {
  for (const char* folder : {"mask", "masks"}) {
    const fs::path dir = fs::path(root) / folder;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    std::vector<std::string> found(images.size());
    size_t count = 0;
    for (size_t i = 0; i < images.size(); ++i) {
      const fs::path image(images[i]);
      char index_name[32];
      std::snprintf(index_name, sizeof index_name, "%03zu.png", i);
      for (const fs::path& candidate : {dir / image.filename(), dir / (image.stem().string() + ".png"),
                                        dir / (image.filename().string() + ".png"), dir / index_name})
        if (is_file(candidate)) {
          found[i] = candidate.string();
          ++count;
          break;
        }
    }
    if (count == 0) continue;
    for (const auto& v : views)
      if (!v.distortion.is_none()) {
        log_info(root + ": object masks in " + dir.string() + " not used: the photos are undistorted at load and the masks are not");
        return {};
      }
    log_info(root + ": " + std::to_string(count) + " object masks from " + dir.string());
    return found;
  }
  return {};
}

int protocol_downscale(const std::string& protocol) {
  if (protocol == "llff") return 8;
  if (protocol == "dtu") return 4;
  if (protocol == "blender") return 2;
  return 0;
}

Dataset Dataset::load(const std::string& path, const DatasetOptions& options) {
  DatasetOptions opt = options;
  if (opt.protocol.empty()) opt.protocol = "auto";
  if (opt.protocol != "auto" && opt.protocol != "llff" && opt.protocol != "dtu" && opt.protocol != "blender")
    throw_bad_input(path, "unknown protocol '" + opt.protocol + "' (expected auto, llff, dtu or blender)");
  if (opt.downscale == 0 && opt.resolution == 0) opt.downscale = protocol_downscale(opt.protocol);
  std::error_code ec;
  if (!fs::is_directory(path, ec)) throw_bad_input(path, "no such folder (" + format_hint() + ")");
  if (opt.downscale < 0) throw_bad_input(path, "downscale must be >= 0, found " + std::to_string(opt.downscale));
  if (opt.resolution < 0) throw_bad_input(path, "resolution must be >= 0, found " + std::to_string(opt.resolution));
  if (opt.train_views < 0) throw_bad_input(path, "train views must be >= 0, found " + std::to_string(opt.train_views));

  // Format detection. A COLMAP model with images wins (it has tracks and distortion);
  // LLFF's sparse/0 lacks images.bin, so such a folder goes to poses_bounds.npy. DTU in
  // IDR/NeuS layout (cameras_sphere.npz / cameras.npz + images/) is checked before LLFF:
  // such folders often carry an LLFF conversion (poses_bounds.npy) too, in another frame and
  // without the DTU view numbering that the protocol split needs.
  Loaded L;
  const std::string model_dir = find_colmap_dir(path);
  if (!model_dir.empty() && has_colmap_file(model_dir, "images")) {
    L = load_colmap(path, model_dir, opt);
  } else if (const std::string idr = find_idr_cameras(path); !idr.empty()) {
    L = load_dtu(path, idr, opt);
  } else if (is_file(fs::path(path) / "poses_bounds.npy")) {
    L = load_llff(path, opt);
  } else if (is_file(fs::path(path) / "transforms_train.json") || is_file(fs::path(path) / "transforms.json")) {
    L = load_blender(path, opt);
  } else if (const std::string scene = find_spare_scene_dir(path); !scene.empty()) {
    L = load_spare(path, scene, opt);
  } else {
    throw_bad_input(path, "cannot detect the dataset format (" + format_hint() + ")");
  }
  if (L.views.empty()) throw_bad_input(path, "no views (expected at least one camera)");

  Dataset d;
  d.root = path;
  d.format = L.format;
  d.depth_bounds = L.bounds;
  auto src = std::make_shared<ImageSource>(opt.cache_bytes, std::min<size_t>(opt.cache_bytes, size_t(512) << 20));
  const float bg = opt.white_background ? 1.0f : 0.0f;
  src->background[0] = src->background[1] = src->background[2] = bg;

  // Every image must exist and be readable now (header only); a size that differs from the
  // camera's rescales the intrinsics (aspect ratio must agree).
  std::set<std::string> size_notes;
  std::map<std::tuple<int, int, int>, int> lens_keys;
  bool capped = false;
  for (size_t i = 0; i < L.views.size(); ++i) {
    View& v = L.views[i];
    const ImageInfo info = read_image_header(v.path);
    Camera disk = v.camera;
    if (info.width != disk.width || info.height != disk.height) {
      const double sx = double(info.width) / disk.width, sy = double(info.height) / disk.height;
      if (std::abs(sx - sy) > 0.02 * std::max(sx, sy))
        throw_bad_input(v.path, "image is " + std::to_string(info.width) + "x" + std::to_string(info.height) +
                                    " but its camera says " + std::to_string(disk.width) + "x" +
                                    std::to_string(disk.height) + " (a different aspect ratio)");
      size_notes.insert("camera size " + std::to_string(disk.width) + "x" + std::to_string(disk.height) + " -> image size " +
                        std::to_string(info.width) + "x" + std::to_string(info.height));
      disk = disk.resized(info.width, info.height);
    }
    // Working size: INRIA's round(w / downscale), then the longest side capped.
    int w = rounded(info.width / L.downscale), h = rounded(info.height / L.downscale);
    int cap = opt.resolution;
    if (cap == 0 && opt.downscale == 0) cap = 1600;
    if (cap > 0 && std::max(w, h) > cap) {
      if (opt.resolution == 0) capped = true;
      if (w >= h) {
        h = rounded(double(h) * cap / w);
        w = cap;
      } else {
        w = rounded(double(w) * cap / h);
        h = cap;
      }
    }
    ImageSource::View sv;
    sv.path = v.path;
    sv.disk_width = info.width;
    sv.disk_height = info.height;
    sv.width = w;
    sv.height = h;
    sv.disk_camera = disk;
    sv.distortion = v.distortion;
    // Views of one lens at one file size share an undistortion map.
    if (!v.distortion.is_none())
      sv.lens = lens_keys.emplace(std::make_tuple(v.lens, info.width, info.height), int(lens_keys.size())).first->second;
    src->views.push_back(sv);
    d.cameras.push_back(disk.resized(w, h));
    d.image_paths.push_back(v.path);
  }
  d.mask_paths = L.masks;
  if (d.mask_paths.empty()) d.mask_paths = find_mask_files(path, d.image_paths, L.views);
  for (const auto& n : size_notes) log_info(path + ": intrinsics scaled to the image files (" + n + ")");
  if (capped) log_info(path + ": images larger than 1600 pixels are scaled to 1600 on the longest side (set a resolution or downscale to choose)");
  std::set<int> lenses_logged;
  for (const auto& sv : src->views)
    if (sv.lens >= 0 && lenses_logged.insert(sv.lens).second)
      log_info(path + ": images are undistorted at load (" + sv.distortion.describe() +
               " -> pinhole with the same intrinsics)");

  // Split.
  if (opt.protocol == "llff") {
    L.split = holdout_split(int(d.size()), opt.train_views, path);
  } else if (opt.protocol == "dtu") {
    if (d.size() < 49)
      throw_bad_input(path, "the DTU protocol needs the 49 DTU views numbered 0..48, found " + std::to_string(d.size()));
    L.split = dtu_protocol_split(int(d.size()), opt.train_views, path);
  } else if (opt.protocol == "blender" && d.format != "blender") {
    throw_bad_input(path, "the Blender protocol needs a transforms_train.json / transforms_test.json dataset, found " +
                              d.format);
  }
  Split split = L.split;
  if (!opt.train_ids.empty() || !opt.test_ids.empty()) {
    std::vector<int> train_ids = opt.train_ids;
    if (train_ids.empty() && opt.train_views == 0)  // only test ids: every other view trains
      for (int v = 0; v < int(d.size()); ++v)
        if (std::find(opt.test_ids.begin(), opt.test_ids.end(), v) == opt.test_ids.end()) train_ids.push_back(v);
    split = explicit_split(int(d.size()), train_ids, opt.test_ids, L.split, path);
  }
  d.train_ids = split.train;
  d.test_ids = split.test;
  d.protocol = split.protocol;

  // Depth range for random initialization: LLFF's per-view bounds over the train views, else
  // the 0.1 / 99.9 percentiles (as LLFF's imgs2poses) of the depths of all SfM points inside
  // the train views' frusta. All points, not only the kept ones: a depth range says little
  // about any single test view, and sparse splits may keep very few points.
  if (!L.bounds.empty()) {
    d.near_depth = L.bounds[size_t(d.train_ids[0])].x;
    d.far_depth = L.bounds[size_t(d.train_ids[0])].y;
    for (int id : d.train_ids) {
      d.near_depth = std::min(d.near_depth, L.bounds[size_t(id)].x);
      d.far_depth = std::max(d.far_depth, L.bounds[size_t(id)].y);
    }
  } else if (L.points.size() > 0) {
    const size_t stride = std::max<size_t>(1, L.points.size() / 20000);
    std::vector<float> depths;
    for (int id : d.train_ids) {
      const Camera& c = d.cameras[size_t(id)];
      for (size_t i = 0; i < L.points.size(); i += stride) {
        const glm::vec3 x = c.to_camera(glm::vec3(L.points.xyz[3 * i], L.points.xyz[3 * i + 1], L.points.xyz[3 * i + 2]));
        if (!(x.z > 0)) continue;
        const float u = c.fx * x.x / x.z + c.cx, v = c.fy * x.y / x.z + c.cy;
        if (u >= 0 && u < float(c.width) && v >= 0 && v < float(c.height)) depths.push_back(x.z);
      }
    }
    if (depths.size() >= 2) {
      const auto pick = [&](double q) {
        auto it = depths.begin() + long(q * double(depths.size() - 1));
        std::nth_element(depths.begin(), it, depths.end());
        return *it;
      };
      d.near_depth = pick(0.001);
      d.far_depth = pick(0.999);
      if (!(d.far_depth > d.near_depth)) d.near_depth = d.far_depth = 0;
    }
  }

  // SfM points, restricted to what the train views may see.
  const bool all_train = d.train_ids.size() + d.test_ids.size() >= d.size();
  if (L.points.size() == 0) {
    d.points = std::move(L.points);
    log_info(path + ": no SfM points; training starts from random points");
  } else if (L.points.has_tracks) {
    const size_t before = L.points.size();
    d.points = keep_points_seen_by(L.points, d.train_ids, int(d.size()), 2);
    d.points_from_train_views_only = true;
    if (d.points.size() == 0)
      log_warn(path + ": none of the " + std::to_string(before) +
               " SfM points is observed by 2 train views; the run starts from random points");
    else
      log_info(path + ": " + std::to_string(d.points.size()) + " of " + std::to_string(before) +
               " SfM points are observed by at least 2 train views; keeping those");
  } else if (!all_train) {
    log_warn(path + ": the SfM points have no tracks to tie them to views, so they cannot be restricted to the " +
             std::to_string(d.train_ids.size()) + " train views; dropping them: the run starts from random points");
    d.points = PointCloud{};
  } else {
    d.points = std::move(L.points);
  }

  src->views.shrink_to_fit();
  d.source = std::move(src);
  log_info(path + ": " + d.format + " dataset, " + std::to_string(d.size()) + " views (" +
           std::to_string(d.train_ids.size()) + " train, " + std::to_string(d.test_ids.size()) + " test) at " +
           std::to_string(d.cameras[0].width) + "x" + std::to_string(d.cameras[0].height) + ", " + L.note + "; " +
           d.protocol);
  return d;
}

}  // namespace sp
