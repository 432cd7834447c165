#include "engine/synth/generator.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "engine/core/atomic_file.h"
#include "engine/core/error.h"
#include "engine/core/rng.h"
#include "engine/io/colmap.h"
#include "engine/io/image_io.h"
#include "engine/io/npy.h"
#include "engine/io/spare.h"
#include "engine/synth/mesh.h"
#include "engine/synth/ray_tracer.h"

namespace sp::synth {
namespace fs = std::filesystem;

SceneDesc apply_options(SceneDesc d, const SynthOptions& o) {
  const std::string where = d.file.empty() ? std::string("scene") : d.file;
  if (o.width < 0 || o.height < 0) throw_bad_input("--resolution", "width and height must be positive");
  if (o.width > 0) {
    const int h = o.height > 0 ? o.height : std::max(1, int(std::lround(double(o.width) * d.height / d.width)));
    d.width = o.width;
    d.height = h;
  } else if (o.height > 0) {
    throw_bad_input("--resolution", "a height needs a width (WxH)");
  }
  if (o.views < 0) throw_bad_input("--views", "must be >= 1, found " + std::to_string(o.views));
  if (o.views > 0) d.rig.views = o.views;
  if (o.seed >= 0) d.seed = uint64_t(o.seed);
  if (o.supersampling > 0) d.supersampling = o.supersampling;
  if (o.lighting >= 0) {
    if (size_t(o.lighting) >= d.lighting_setups.size())
      throw_bad_input("--lighting", std::to_string(o.lighting) + " is out of range (the scene has lighting set-ups 0.." +
                                        std::to_string(d.lighting_setups.size() - 1) + ")");
    d.default_lighting = o.lighting;
  }
  validate_scene(d);
  return d;
}

namespace {

struct SurfacePoints {
  std::vector<glm::vec3> position, normal;
};

// Points uniformly distributed by area: 3/4 of them on the objects, 1/4 on the platform's
// top face (which the sparse-view point filter then mostly drops far from the object).
SurfacePoints sample_surfaces(const World& w, int count, uint64_t seed) {
  SurfacePoints out;
  if (count <= 0) return out;
  const TriangleMesh& m = w.mesh;
  std::vector<size_t> groups[2];
  for (size_t t = 0; t < m.triangle_count(); ++t) {
    if (m.kind[t] == SurfaceKind::Object) groups[0].push_back(t);
    if (m.kind[t] == SurfaceKind::Platform) {
      const glm::vec3 n = glm::cross(m.positions[3 * t + 1] - m.positions[3 * t], m.positions[3 * t + 2] - m.positions[3 * t]);
      if (n.z > 0.5f * glm::length(n)) groups[1].push_back(t);
    }
  }
  Rng rng(seed ^ 0x9017a5c3d2b1e4f7ULL);
  const int per_group[2] = {count - count / 4, count / 4};
  for (int g = 0; g < 2; ++g) {
    const auto& tris = groups[g];
    if (tris.empty()) continue;
    std::vector<double> cdf;
    double acc = 0;
    for (size_t t : tris) {
      acc += 0.5 * glm::length(glm::cross(glm::dvec3(m.positions[3 * t + 1] - m.positions[3 * t]),
                                          glm::dvec3(m.positions[3 * t + 2] - m.positions[3 * t])));
      cdf.push_back(acc);
    }
    for (int i = 0; i < per_group[g]; ++i) {
      const double r = double(rng.uniform()) * acc;
      const size_t k = std::min(size_t(std::upper_bound(cdf.begin(), cdf.end(), r) - cdf.begin()), tris.size() - 1);
      const size_t t = tris[k];
      float a = rng.uniform(), b = rng.uniform();
      if (a + b > 1.0f) {
        a = 1.0f - a;
        b = 1.0f - b;
      }
      const glm::vec3 p0 = m.positions[3 * t], p1 = m.positions[3 * t + 1], p2 = m.positions[3 * t + 2];
      out.position.push_back(p0 + a * (p1 - p0) + b * (p2 - p0));
      // The shading normal says which side is outside (windings of OBJ files vary).
      glm::vec3 nrm = glm::normalize(glm::cross(p1 - p0, p2 - p0));
      const glm::vec3 ns = (1 - a - b) * m.normals[3 * t] + a * m.normals[3 * t + 1] + b * m.normals[3 * t + 2];
      if (glm::dot(nrm, ns) < 0) nrm = -nrm;
      out.normal.push_back(nrm);
    }
  }
  return out;
}

// Removes files of an earlier run that the new one does not rewrite: views numbered
// beyond `views` (any lighting) in the scene folder and its mask/, depth/, images/.
void remove_stale(const fs::path& dir, int views) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return;
  const auto sweep = [&](const fs::path& folder, const std::function<bool(const std::string&)>& stale) {
    std::vector<fs::path> doomed;
    for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec))
      if (stale(it->path().filename().string())) doomed.push_back(it->path());
    for (const auto& p : doomed) fs::remove(p, ec);
  };
  const auto image = [&](const std::string& f) {
    int n = 0, l = 0;
    return parse_spare_image_name(f, n, l) && f.rfind("cam_", 0) == 0 && n > views;
  };
  const auto pos = [&](const std::string& f) {
    int n = 0;
    return parse_spare_pos_name(f, n) && n > views;
  };
  const auto indexed = [&](const std::string& f, const char* ext) {
    if (f.size() != 3 + std::string(ext).size() || f.compare(3, std::string::npos, ext) != 0) return false;
    if (!std::all_of(f.begin(), f.begin() + 3, [](char c) { return c >= '0' && c <= '9'; })) return false;
    return std::stoi(f.substr(0, 3)) >= views;
  };
  sweep(dir, [&](const std::string& f) { return image(f) || pos(f); });
  sweep(dir / "images", image);
  sweep(dir / "mask", [&](const std::string& f) { return indexed(f, ".png"); });
  sweep(dir / "depth", [&](const std::string& f) { return indexed(f, ".npy"); });
}

std::string info_json(const SceneDesc& d, int lighting, const SynthResult& r) {
  nlohmann::ordered_json j;
  j["generator"] = "sparsplat synth";
  j["scene"] = d.name;
  j["seed"] = d.seed;
  j["width"] = d.width;
  j["height"] = d.height;
  j["supersampling"] = d.supersampling;
  j["views"] = d.rig.views;
  j["lighting"] = lighting;
  nlohmann::ordered_json layouts = nlohmann::ordered_json::object();
  if (!r.spare_dir.empty()) layouts["spare"] = fs::path(r.spare_dir).filename().string();
  if (!r.colmap_dir.empty()) layouts["colmap"] = fs::path(r.colmap_dir).filename().string();
  j["layouts"] = layouts;
  j["input_views"] = r.split.input_views;
  j["test_views"] = r.split.test_views;
  j["colmap_points"] = r.points;
  j["conventions"] = {
      {"world", "right-handed, +z up; the platform's top face is z = 0"},
      {"camera", "pos_XXX.txt: P = K [R | t] maps world points to pixels; pixel (i, j) is centred at (i + 0.5, j + 0.5)"},
      {"views", "view i <-> file number i + 1 (cam_, pos_); mask/ and depth/ use i (0-based)"},
      {"mask", "mask/{i:03d}.png: 8-bit, 255 where the ray through the pixel centre first hits an object, else 0"},
      {"depth", "depth/{i:03d}.npy: float32 (height, width), view-space z in scene units of the first surface on the ray "
                "through the pixel centre; 0 where nothing is hit"},
      {"images", "8-bit sRGB, " + std::to_string(d.supersampling) + "x" + std::to_string(d.supersampling) +
                     " supersampled (box filter in linear light)"}};
  return j.dump(2) + "\n";
}

}  // namespace

SynthResult generate_dataset(const SceneDesc& scene_in, const SynthOptions& options, const std::string& out_dir,
                             const std::function<void(int, int)>& progress) {
  if (!options.spare && !options.colmap) throw_bad_input("--layout", "no layout selected");
  if (out_dir.empty()) throw_bad_input("--output", "is empty");
  std::error_code exists_ec;
  if (fs::exists(out_dir, exists_ec) && !fs::is_directory(out_dir, exists_ec))
    throw_bad_input(out_dir, "exists and is not a folder");
  SynthResult res;
  res.scene = apply_options(scene_in, options);
  const SceneDesc& d = res.scene;
  res.lighting = d.default_lighting;
  const World world = build_world(d);
  RayTracer tracer(world, d);
  tracer.set_lighting(res.lighting);
  res.cameras = make_rig(d);
  res.split = choose_split(d, res.cameras);
  const int n = int(res.cameras.size());

  std::error_code ec;
  const fs::path out(out_dir);
  const fs::path spare = out / d.name, colmap = out / (d.name + "_colmap");
  const auto make_dirs = [&](const fs::path& p) {
    fs::create_directories(p, ec);
    if (ec) throw_bad_input(p.string(), "cannot create the folder (" + ec.message() + ")");
  };
  if (options.spare) {
    remove_stale(spare, n);
    for (const char* sub : {"mask", "depth"}) make_dirs(spare / sub);
    res.spare_dir = spare.string();
    res.split_file = (out / "split.json").string();
  }
  if (options.colmap) {
    remove_stale(colmap, n);
    for (const char* sub : {"images", "mask", "depth", "sparse/0"}) make_dirs(colmap / sub);
    res.colmap_dir = colmap.string();
  }

  // COLMAP stand-in for SfM: surface samples, observed per view as they are rendered.
  const SurfacePoints samples = options.colmap ? sample_surfaces(world, d.points, d.seed) : SurfacePoints{};
  const size_t np = samples.position.size();
  std::vector<glm::dvec3> color_sum(np, glm::dvec3(0.0));
  std::vector<int> seen_count(np, 0);
  struct Observation {
    int32_t point;
    float u, v;
  };
  std::vector<std::vector<Observation>> observations(static_cast<size_t>(n));

  // Photos in the wild: the input views' transforms (index = position in input_views).
  const bool wild = options.wild.colour_spread > 0 || options.wild.occluders > 0;
  WildPhotoOptions wild_options = options.wild;
  if (wild_options.seed == 0) wild_options.seed = d.seed + 1;
  const std::vector<ColourTransform> transforms =
      draw_colour_transforms(int(res.split.input_views.size()), wild_options);
  nlohmann::ordered_json wild_json = nlohmann::json::array();
  for (int i = 0; i < n; ++i) {
    const RigCamera& cam = res.cameras[size_t(i)];
    RenderedView view = tracer.render(cam, d.supersampling);
    const auto input = std::find(res.split.input_views.begin(), res.split.input_views.end(), i);
    if (wild && input != res.split.input_views.end()) {
      const size_t k = size_t(input - res.split.input_views.begin());
      apply_colour_transform(view.color, transforms[k]);
      const Image pasted = paste_occluders(view.color, i, wild_options);
      double share = 0;
      for (float v : pasted.pixels) share += double(v);
      share /= double(std::max<size_t>(1, pasted.pixels.size()));
      for (const fs::path& base : {spare, colmap})
        if ((base == spare && options.spare) || (base == colmap && options.colmap)) {
          make_dirs(base / "transient");
          save_png((base / "transient" / spare_mask_name(i)).string(), pasted);
        }
      wild_json.push_back({{"view", i}, {"code", transforms[k].code()}, {"occluder_share", share}});
    }
    const std::string image_name = spare_image_name(i, res.lighting);
    const std::string mask_name = spare_mask_name(i);
    const std::string depth_name = mask_name.substr(0, 3) + ".npy";
    const std::vector<size_t> shape = {size_t(cam.height), size_t(cam.width)};
    if (options.spare) {
      save_png((spare / image_name).string(), view.color);
      write_text_atomic((spare / spare_pos_name(i)).string(),
                        encode_projection_matrix(compose_projection(cam.K, cam.R, cam.t)));
      save_png((spare / "mask" / mask_name).string(), view.mask);
      write_npy((spare / "depth" / depth_name).string(), shape, view.depth.pixels.data());
    }
    if (options.colmap) {
      if (options.spare) {  // the same bytes: copy instead of encoding again
        write_text_atomic((colmap / "images" / image_name).string(), read_file((spare / image_name).string()));
        write_text_atomic((colmap / "mask" / mask_name).string(), read_file((spare / "mask" / mask_name).string()));
        write_text_atomic((colmap / "depth" / depth_name).string(), read_file((spare / "depth" / depth_name).string()));
      } else {
        save_png((colmap / "images" / image_name).string(), view.color);
        save_png((colmap / "mask" / mask_name).string(), view.mask);
        write_npy((colmap / "depth" / depth_name).string(), shape, view.depth.pixels.data());
      }
      // Which samples this view sees: in front, inside the image, facing the camera, and the
      // first surface on the ray from the camera centre.
      const glm::dvec3 c = cam.center();
      const glm::vec3 cf(c);
      std::vector<uint8_t> visible(np, 0);
      std::vector<glm::vec2> uv(np);
#pragma omp parallel for schedule(static)
      for (size_t k = 0; k < np; ++k) {
        const glm::dvec3 p(samples.position[k]);
        const glm::dvec3 x = cam.R * p + cam.t;
        if (!(x.z > 1e-6)) continue;
        const double u = cam.K[0][0] * x.x / x.z + cam.K[1][0] * x.y / x.z + cam.K[2][0];
        const double v = cam.K[1][1] * x.y / x.z + cam.K[2][1];
        if (!(u >= 0 && v >= 0 && u < cam.width && v < cam.height)) continue;
        if (glm::dot(glm::dvec3(samples.normal[k]), c - p) <= 0) continue;
        const glm::vec3 dir = samples.position[k] - cf;
        RayHit hit;
        const float slack = 4.0f * tracer.epsilon() / std::max(1e-6f, glm::length(dir));
        if (tracer.trace(cf, dir, 0.0f, 1.0f + slack, hit) && hit.t < 1.0f - slack) continue;
        visible[k] = 1;
        uv[k] = glm::vec2(float(u), float(v));
      }
      for (size_t k = 0; k < np; ++k) {
        if (!visible[k]) continue;
        const int px = std::min(cam.width - 1, int(uv[k].x)), py = std::min(cam.height - 1, int(uv[k].y));
        for (int ch = 0; ch < 3; ++ch) color_sum[k][ch] += view.color.at(px, py, ch);
        ++seen_count[k];
        observations[size_t(i)].push_back({int32_t(k), uv[k].x, uv[k].y});
      }
    }
    if (progress) progress(i + 1, n);
  }

  if (options.colmap) {
    ColmapModel model;
    model.has_images = model.has_points = true;
    const RigCamera& c0 = res.cameras[0];
    ColmapCamera cc;
    cc.id = 1;
    cc.model_id = int(ColmapModelId::Pinhole);
    cc.width = uint64_t(c0.width);
    cc.height = uint64_t(c0.height);
    cc.params = {c0.K[0][0], c0.K[1][1], c0.K[2][0], c0.K[2][1]};
    model.cameras.push_back(cc);
    // Points seen by at least two views get ids 1, 2, ... in sample order.
    std::vector<int64_t> id_of(np, -1);
    uint64_t next = 1;
    for (size_t k = 0; k < np; ++k)
      if (seen_count[k] >= 2) id_of[k] = int64_t(next++);
    ColmapPoints& pts = model.points;
    std::vector<std::vector<std::pair<uint32_t, uint32_t>>> tracks(np);
    for (int i = 0; i < n; ++i) {
      const RigCamera& cam = res.cameras[size_t(i)];
      ColmapImage im;
      im.id = uint32_t(i + 1);
      im.camera_id = 1;
      im.name = spare_image_name(i, res.lighting);
      im.qvec = rotation_to_quaternion(cam.R);
      im.tvec = {cam.t.x, cam.t.y, cam.t.z};
      for (const Observation& o : observations[size_t(i)]) {
        if (id_of[size_t(o.point)] < 0) continue;
        tracks[size_t(o.point)].emplace_back(im.id, uint32_t(im.point3d_ids.size()));
        im.xys.push_back(double(o.u));
        im.xys.push_back(double(o.v));
        im.point3d_ids.push_back(id_of[size_t(o.point)]);
      }
      model.images.push_back(std::move(im));
    }
    for (size_t k = 0; k < np; ++k) {
      if (id_of[k] < 0) continue;
      pts.ids.push_back(uint64_t(id_of[k]));
      for (int a = 0; a < 3; ++a) pts.xyz.push_back(double(samples.position[k][a]));
      for (int a = 0; a < 3; ++a)
        pts.rgb.push_back(uint8_t(std::lround(std::clamp(color_sum[k][a] / seen_count[k], 0.0, 1.0) * 255.0)));
      pts.error.push_back(0.0);
      for (const auto& [image, idx] : tracks[k]) {
        pts.track_image_ids.push_back(image);
        pts.track_point2d_idx.push_back(idx);
      }
      pts.track_offsets.push_back(pts.track_image_ids.size());
    }
    res.points = pts.size();
    write_colmap_text((colmap / "sparse" / "0").string(), model);
    // The same split beside the COLMAP model, so `--train-views N` there follows it too.
    SpareSplit split;
    split.input_views = res.split.input_views;
    split.test_views = res.split.test_views;
    split.dataset = "sparsplat-synth";
    write_text_atomic((colmap / "split.json").string(), encode_spare_split({{d.name, split}}));
  }
  if (options.spare) {
    SpareSplit s;
    s.input_views = res.split.input_views;
    s.test_views = res.split.test_views;
    s.dataset = "sparsplat-synth";
    // Keep other scenes' entries of an existing split file in the same folder.
    std::map<std::string, SpareSplit> all;
    if (fs::is_regular_file(res.split_file, ec)) {
      try {
        all = read_spare_split(res.split_file);
      } catch (const Error&) {
        all.clear();  // not ours or corrupt: replaced
      }
    }
    all[d.name] = s;
    write_text_atomic(res.split_file, encode_spare_split(all));
  }
  write_text_atomic((out / (d.name + "_synth.json")).string(), info_json(d, res.lighting, res));
  if (wild) {
    nlohmann::ordered_json j = {{"colour_spread", options.wild.colour_spread},
                                {"occluders", options.wild.occluders},
                                {"occluder_size", options.wild.occluder_size},
                                {"seed", wild_options.seed},
                                {"code_layout", "out = A c + b; A row-major (9), b (3); input views only"},
                                {"views", wild_json}};
    write_text_atomic((out / (d.name + "_wild.json")).string(), j.dump(2) + "\n");
  }
  return res;
}

}  // namespace sp::synth
