// Dataset::load: detect the format, let its loader (dataset_<format>.cpp) read cameras and
// points through engine/io, apply the split (the format's rule, a forced protocol or explicit
// ids), check every image file's header, fix the working resolution and restrict the SfM
// points to the train views. Pixels are decoded later, on demand (Dataset::image).
#include "engine/scene/dataset.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <tuple>

#include "engine/core/error.h"
#include "engine/core/log.h"
#include "engine/io/colmap.h"
#include "engine/io/image_header.h"
#include "engine/io/image_io.h"
#include "engine/io/spare.h"
#include "engine/io/undistort.h"
#include "engine/scene/dataset_split.h"
#include "engine/scene/format_loader.h"
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
  glm::vec3 background{1.0f};  // Dataset::rgba_background
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
    img = undistorted(v, to_rgb(std::move(img)));
    if (img.width != v.width || img.height != v.height) img = resize_image(img, v.width, v.height);
    return img;
  }

  // The photo (or its mask: the same lens, the same pixels) through its lens's undistortion
  // map; unchanged for a pinhole view.
  Image undistorted(const View& v, Image img) {
    if (v.lens < 0) return img;
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
    return undistort_image(img, *map);
  }

  Image to_rgb(Image img) const {
    if (img.channels == 3) return img;
    if (img.channels == 4) return composite_rgba(img, background.r, background.g, background.b);
    Image rgba(img.width, img.height, 4);
    for (size_t p = 0; p < img.pixel_count(); ++p) {
      const float g = img.pixels[p * size_t(img.channels)];
      rgba.pixels[4 * p] = rgba.pixels[4 * p + 1] = rgba.pixels[4 * p + 2] = g;
      rgba.pixels[4 * p + 3] = img.channels == 2 ? img.pixels[p * 2 + 1] : 1.0f;
    }
    return composite_rgba(rgba, background.r, background.g, background.b);
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
  // A mask of a distorted photo (the statue's) is in the photo's pixels: undistort it the same way.
  if (source) {
    const ImageSource::View& v = source->views[size_t(view)];
    if (v.lens >= 0) {
      if (m.width != v.disk_width || m.height != v.disk_height)
        throw_bad_input(mask_paths[size_t(view)], "mask of a distorted photo must have the photo's size (" +
                                                      std::to_string(v.disk_width) + "x" + std::to_string(v.disk_height) +
                                                      "), found " + std::to_string(m.width) + "x" +
                                                      std::to_string(m.height));
      m = source->undistorted(v, std::move(m));
    }
  }
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

bool format_loader::is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

namespace {
using format_loader::is_file;
using format_loader::Loaded;
using format_loader::SplitRule;
using format_loader::View;

std::string format_hint() {
  return "expected sparse/0/{cameras,images}.{bin,txt} + images/ (COLMAP), cameras_sphere.npz / cameras.npz + images/ "
         "(DTU in IDR/NeuS layout), poses_bounds.npy + images/ or images_N/ "
         "(LLFF), transforms_train.json / transforms.json (Blender, nerfstudio), or pos_XXX.txt + cam_XXX_L_0000.png / "
         "rect_XXX_L_r5000.png (DTU, SpaRe)";
}

int rounded(double v) { return std::max(1, int(std::nearbyint(v))); }

// The format's own split (protocol "auto").
Split format_split(const SplitRule& rule, int n, int train_views, const std::string& where) {
  switch (rule.kind) {
    case SplitRule::Kind::holdout:
      return holdout_split(n, train_views, where);
    case SplitRule::Kind::dtu_when_49:
      return n >= 49 ? dtu_protocol_split(n, train_views, where) : holdout_split(n, train_views, where);
    case SplitRule::Kind::blender:
      return blender_split(rule.train_frames, rule.test_frames, train_views, where);
    case SplitRule::Kind::split_file: {
      Split split = spare_file_split(rule.file_views, n, train_views, rule.file, rule.scene);
      if (rule.ascending) {
        std::sort(split.train.begin(), split.train.end());
        std::sort(split.test.begin(), split.test.end());
      }
      return split;
    }
  }
  throw_internal("unknown split rule");
}

// The one place a split is decided: explicit ids over a forced protocol over the format's
// own rule. A forced protocol replaces the format's rule (which is then not evaluated); the
// explicit ids take their missing half from whichever rule applies.
Split choose_split(const Loaded& L, const DatasetOptions& opt, const std::string& path) {
  const int n = int(L.views.size());
  Split split;
  if (opt.protocol == "llff") {
    split = holdout_split(n, opt.train_views, path);
  } else if (opt.protocol == "dtu") {
    if (n < 49) throw_bad_input(path, "the DTU protocol needs the 49 DTU views numbered 0..48, found " + std::to_string(n));
    split = dtu_protocol_split(n, opt.train_views, path);
  } else if (opt.protocol == "blender" && L.format != "blender") {
    throw_bad_input(path, "the Blender protocol needs a transforms_train.json / transforms_test.json dataset, found " +
                              L.format);
  } else {
    split = format_split(L.split_rule, n, opt.train_views, path);
  }
  if (opt.train_ids.empty() && opt.test_ids.empty()) return split;
  std::vector<int> train_ids = opt.train_ids;
  if (train_ids.empty() && opt.train_views == 0)  // only test ids: every other view trains
    for (int v = 0; v < n; ++v)
      if (std::find(opt.test_ids.begin(), opt.test_ids.end(), v) == opt.test_ids.end()) train_ids.push_back(v);
  return explicit_split(n, train_ids, opt.test_ids, split, path);
}

// Object masks beside a COLMAP/LLFF/Blender dataset: a mask/ or masks/ folder holding, per
// view, a file named like the image (any image extension) or by the view's index ({i:03d}.png,
// as DTU/IDR and our generator write). Masks of distorted photos go through the same
// undistortion as the photos (Dataset::mask).
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
    bool distorted = false;
    for (const auto& v : views) distorted = distorted || !v.distortion.is_none();
    log_info(root + ": " + std::to_string(count) + " object masks from " + dir.string() +
             (distorted ? " (undistorted with the photos)" : ""));
    return found;
  }
  return {};
}

}  // namespace

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
  const std::string model_dir = format_loader::find_colmap_dir(path);
  if (!model_dir.empty() && has_colmap_file(model_dir, "images")) {
    L = format_loader::load_colmap(path, model_dir, opt.downscale);
  } else if (const std::string idr = format_loader::find_idr_cameras(path); !idr.empty()) {
    L = format_loader::load_dtu(path, idr);
  } else if (is_file(fs::path(path) / "poses_bounds.npy")) {
    L = format_loader::load_llff(path, opt.downscale);
  } else if (is_file(fs::path(path) / "transforms_train.json") || is_file(fs::path(path) / "transforms.json")) {
    L = format_loader::load_blender(path);
  } else if (const std::string scene = find_spare_scene_dir(path); !scene.empty()) {
    L = format_loader::load_spare(scene);
  } else {
    throw_bad_input(path, "cannot detect the dataset format (" + format_hint() + ")");
  }
  if (L.views.empty()) throw_bad_input(path, "no views (expected at least one camera)");
  const Split split = choose_split(L, opt, path);

  Dataset d;
  d.root = path;
  d.format = L.format;
  d.depth_bounds = L.bounds;
  d.train_ids = split.train;
  d.test_ids = split.test;
  d.protocol = split.protocol;
  d.rgba_background = glm::vec3(opt.white_background ? 1.0f : 0.0f);
  auto src = std::make_shared<ImageSource>(opt.cache_bytes, std::min<size_t>(opt.cache_bytes, size_t(512) << 20));
  src->background = d.rgba_background;

  // Every image must exist and be readable now (header only); a size that differs from the
  // camera's rescales the intrinsics (aspect ratio must agree).
  std::set<std::string> size_notes;
  size_t small_files = 0;
  std::string small_example;
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
    // Working size: a downscale (the protocol's or the user's) is a fraction of the capture
    // the format records, whatever size the files on disk are (a public LLFF copy often holds
    // the 1/8-size photos in images/): INRIA's round(w / downscale) of that size. Files already
    // within a pixel of it are used as they are; smaller files are never enlarged (a warning
    // says the run is below the protocol's size). Then the longest side is capped.
    int w = info.width, h = info.height;
    if (opt.downscale > 0) {
      const int cw = v.capture_width > 0 ? v.capture_width : v.camera.width;
      const int ch = v.capture_height > 0 ? v.capture_height : v.camera.height;
      const int tw = rounded(double(cw) / opt.downscale), th = rounded(double(ch) / opt.downscale);
      if (tw > info.width + 1 || th > info.height + 1) {
        if (small_files++ == 0)
          small_example = (std::to_string(info.width) + "x" + std::to_string(info.height) + " on disk, " +
                           std::to_string(tw) + "x" + std::to_string(th) + " asked (1/" +
                           std::to_string(opt.downscale) + " of the " + std::to_string(cw) + "x" +
                           std::to_string(ch) + " capture)");
      } else if (std::abs(tw - info.width) > 1 || std::abs(th - info.height) > 1) {
        w = tw;
        h = th;
      }
    }
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
  if (small_files > 0)
    log_warn(path + ": " + std::to_string(small_files) + " of " + std::to_string(L.views.size()) +
             " image files are smaller than the size asked for (e.g. " + small_example + "); training at the files' size" +
             (opt.protocol != "auto" ? ", so scores are not comparable with the " + opt.protocol + " protocol's tables" : ""));
  if (capped) log_info(path + ": images larger than 1600 pixels are scaled to 1600 on the longest side (set a resolution or downscale to choose)");
  std::set<int> lenses_logged;
  for (const auto& sv : src->views)
    if (sv.lens >= 0 && lenses_logged.insert(sv.lens).second)
      log_info(path + ": images are undistorted at load (" + sv.distortion.describe() +
               " -> pinhole with the same intrinsics)");

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
