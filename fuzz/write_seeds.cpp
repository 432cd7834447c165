// Writes small valid inputs for every fuzz target with the engine's own encoders:
//   write_seeds OUT_DIR [FILE...]  -> OUT_DIR/<target>/<name>
// Each FILE (real data, fuzz/make_seeds.sh picks them) too large to fuzz whole is cut to a few
// records and re-encoded: points3D.bin / images.bin (first points / images), a Gaussian
// point_cloud.ply (first Gaussians). Small files are copied by make_seeds.sh itself.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/core/atomic_file.h"
#include "engine/core/rng.h"
#include "engine/io/cameras_json.h"
#include "engine/io/colmap.h"
#include "engine/io/compressed_ply.h"
#include "engine/io/gaussian_ply.h"
#include "engine/io/image_io.h"
#include "engine/io/npy.h"
#include "engine/io/spare.h"
#include "engine/io/splat_file.h"
#include "engine/io/spz_file.h"
#include "engine/io/zip_archive.h"
#include "engine/language/language_checkpoint.h"
#include "engine/train/checkpoint_file.h"
#include "tests/support/random_model.h"
#include "tests/support/synthetic_colmap.h"

namespace fs = std::filesystem;
using namespace sp;

namespace {
std::string out_dir;

void put(const std::string& target, const std::string& name, const std::string& bytes) {
  fs::create_directories(out_dir + "/" + target);
  std::ofstream(out_dir + "/" + target + "/" + name, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

// A checkpoint of a 3-Gaussian degree-1 model, through the same record writer the trainer uses.
std::string checkpoint_bytes(const GaussianModel& m) {
  std::ostringstream out;
  write_checkpoint_magic(out);
  const std::string meta = "iteration=20\nactive_sh_degree=1\nsh_degree=1\nextra_channels=0\ngaussians=" +
                           std::to_string(m.size()) +
                           "\nadam_step=20\nloss_ema_bits=1036831949\nviews=4\nfields=1\nfp.seed=0\n";
  write_checkpoint_record(out, "meta", meta.data(), meta.size());
  std::ostringstream rng;
  rng << Rng(5).engine();
  write_checkpoint_record(out, "rng", rng.str().data(), rng.str().size());
  const int stack[] = {2, 0, 3};
  write_checkpoint_record(out, "view_stack", stack, sizeof stack);
  const LearningRates lr{1, 1, 1, 1, 1, 1, 1};
  write_checkpoint_record(out, "lr_factor", &lr, sizeof lr);
  for (const char* prefix : {"model.", "adam_m.", "adam_v."}) {
    const auto put_floats = [&](const char* name, const std::vector<float>& v) {
      write_checkpoint_record(out, std::string(prefix) + name, v.data(), v.size() * sizeof(float));
    };
    put_floats("means", m.means);
    put_floats("log_scales", m.log_scales);
    put_floats("rotations", m.rotations);
    put_floats("opacities", m.opacities);
    put_floats("sh", m.sh);
    put_floats("extras", m.extras);
  }
  const std::vector<float> per(m.size(), 1.0f);
  for (const char* name : {"density.grad_accum", "density.visible_count", "density.max_radius"})
    write_checkpoint_record(out, name, per.data(), per.size() * sizeof(float));
  return out.str();
}

std::string seed_name(const std::string& path) {
  std::string n = fs::path(path).parent_path().string();
  for (char& ch : n)
    if (ch == '/') ch = '_';
  return "data" + n.substr(n.size() > 40 ? n.size() - 40 : 0) + "_" + fs::path(path).filename().string();
}

void cut_real_file(const std::string& path) {
  const std::string file = fs::path(path).filename().string();
  if (file == "points3D.bin") {
    const ColmapPoints all = parse_colmap_points_bin(read_file(path), path);
    ColmapPoints p;
    for (size_t i = 0; i < std::min<size_t>(all.size(), 20); ++i) {
      p.ids.push_back(all.ids[i]);
      p.xyz.insert(p.xyz.end(), all.xyz.begin() + long(3 * i), all.xyz.begin() + long(3 * i + 3));
      p.rgb.insert(p.rgb.end(), all.rgb.begin() + long(3 * i), all.rgb.begin() + long(3 * i + 3));
      p.error.push_back(all.error[i]);
      const uint64_t b = all.track_offsets[i], e = std::min(all.track_offsets[i + 1], b + 4);
      p.track_image_ids.insert(p.track_image_ids.end(), all.track_image_ids.begin() + long(b), all.track_image_ids.begin() + long(e));
      p.track_point2d_idx.insert(p.track_point2d_idx.end(), all.track_point2d_idx.begin() + long(b),
                                 all.track_point2d_idx.begin() + long(e));
      p.track_offsets.push_back(p.track_image_ids.size());
    }
    put("colmap_points_bin", seed_name(path), encode_colmap_points_bin(p));
    put("colmap_points_txt", seed_name(path), encode_colmap_points_txt(p));
  } else if (file == "images.bin") {
    std::vector<ColmapImage> images = parse_colmap_images_bin(read_file(path), path);
    images.resize(std::min<size_t>(images.size(), 3));
    for (ColmapImage& im : images) {
      const size_t n = std::min<size_t>(im.point3d_ids.size(), 8);
      im.point3d_ids.resize(n);
      im.xys.resize(2 * n);
    }
    put("colmap_images_bin", seed_name(path), encode_colmap_images_bin(images));
    put("colmap_images_txt", seed_name(path), encode_colmap_images_txt(images));
  } else if (file == "cameras.bin") {
    put("colmap_cameras_txt", seed_name(path), encode_colmap_cameras_txt(parse_colmap_cameras_bin(read_file(path), path)));
  } else if (fs::path(path).extension() == ".ply") {
    GaussianModel m = read_gaussian_ply(path);
    m.resize(std::min<size_t>(m.size(), 6));
    const std::string tmp = out_dir + "/tmp.ply";
    write_gaussian_ply(tmp, m);
    put("gaussian_ply", seed_name(path), read_file(tmp));
    put("ply", seed_name(path), read_file(tmp));
    fs::remove(tmp);
  } else {
    std::fprintf(stderr, "write_seeds: no rule for %s\n", path.c_str());
  }
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: write_seeds OUT_DIR [FILE...]\n");
    return 2;
  }
  out_dir = argv[1];
  for (int i = 2; i < argc; ++i) {
    try {
      cut_real_file(argv[i]);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "write_seeds: skipped %s: %s\n", argv[i], e.what());
    }
  }
  const ColmapModel c = test::synthetic_colmap_model({.images = 3, .points = 6, .width = 32, .height = 24, .mixed_models = true});
  put("colmap_cameras_bin", "gen", encode_colmap_cameras_bin(c.cameras));
  put("colmap_cameras_txt", "gen", encode_colmap_cameras_txt(c.cameras));
  put("colmap_images_bin", "gen", encode_colmap_images_bin(c.images));
  put("colmap_images_txt", "gen", encode_colmap_images_txt(c.images));
  put("colmap_points_bin", "gen", encode_colmap_points_bin(c.points));
  put("colmap_points_txt", "gen", encode_colmap_points_txt(c.points));

  Rng rng(7);
  for (int degree : {0, 1, 3}) {
    const GaussianModel m = test::random_model(rng, 4, degree, degree == 1 ? 2 : 0, 1.0f);
    const std::string d = std::to_string(degree);
    const std::string tmp = out_dir + "/tmp.ply";
    write_gaussian_ply(tmp, m);
    const std::string ply = read_file(tmp);
    fs::remove(tmp);
    put("gaussian_ply", "gen_sh" + d, ply);
    put("ply", "gen_sh" + d, ply);
    put("compressed_ply", "gen_sh" + d, encode_compressed_ply(m));
    put("gaussian_ply", "gen_compressed_sh" + d, encode_compressed_ply(m));
    put("spz", "gen_v3_sh" + d, encode_spz(m, {3}));
    put("spz", "gen_v2_sh" + d, encode_spz(m, {2}));
    put("splat", "gen_sh" + d, encode_splat(m));
    if (degree == 1) put("checkpoint", "gen", checkpoint_bytes(m));
  }
  // A submission-shaped archive: two small entries in a scene folder.
  {
    fs::create_directories(out_dir + "/zip_archive");
    ZipWriter w(out_dir + "/zip_archive/gen");
    w.add_bytes("scan24/rect_001_3_r5000.png", encode_png(Image(4, 3, 3, 0.5f)));
    w.add_bytes("scan24/notes.txt", "hello");
    w.commit();
  }
  // A language checkpoint of 4 Gaussians, 2 levels of 3 codes in 5 dims, mid-epoch of 3 views.
  {
    LanguageCheckpoint lc;
    lc.iteration = 7;
    lc.field.levels = 2;
    lc.field.codes = 3;
    lc.field.dims = 5;
    lc.field.top_k = 2;
    lc.field.dictionary.resize(2 * 3 * 5);
    lc.field.logits.resize(4 * 2 * 3);
    for (auto* v : {&lc.field.dictionary, &lc.field.logits})
      for (float& x : *v) x = rng.normal();
    lc.m_logits = lc.v_logits = lc.field.logits;
    lc.m_dict = lc.v_dict = lc.field.dictionary;
    lc.order = {2, 0, 1};
    lc.next = 1;
    lc.shuffle_state = 3;
    lc.loss_ema_bits = 1036831949;
    lc.fingerprint = {{"seed", "0"}, {"iterations", "20"}};
    fs::create_directories(out_dir + "/language_checkpoint");
    write_language_checkpoint(out_dir + "/language_checkpoint/gen", lc);
  }
  // A PLY with an ascii body and a face list, as mesh tools write it.
  put("ply", "gen_ascii_faces",
      "ply\nformat ascii 1.0\ncomment hand-made\nelement vertex 3\nproperty float x\nproperty float y\n"
      "property uchar red\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n"
      "0 0 255\n1 0 128\n0 1 0\n3 0 1 2\n");

  const double pb[2][17] = {{0, 1, 0, 0, 300, -1, 0, 0, 1, 400, 0, 0, 1, 3, 500, 2, 40},
                            {0, 1, 0, 0.5, 300, -1, 0, 0, 1, 400, 0, 0, 1, 3, 500, 2, 40}};
  const std::string pb_npy = encode_npy({2, 17}, &pb[0][0]);
  put("poses_bounds", "gen", pb_npy);
  put("npy", "gen_f8", pb_npy);
  const float f[6] = {1, 2, 3, 4, 5, 6};
  put("npy", "gen_f4", encode_npy({2, 3}, f));
  const uint16_t half[4] = {0x3c00, 0xc000, 0x7bff, 0x0001};
  put("npy", "gen_f2_v2", encode_npy_bytes({4}, "<f2", std::string_view(reinterpret_cast<const char*>(half), 8), 2));
  put("npy", "gen_bool_v3", encode_npy_bytes({2, 1}, "|b1", std::string_view("\1\0", 2), 3));
  put("npz", "gen", encode_npz({{"a", pb_npy}, {"b", encode_npy({2, 3}, f)}}));

  std::vector<Camera> cams(2);
  for (size_t i = 0; i < cams.size(); ++i) {
    cams[i].name = "view_" + std::to_string(i);
    cams[i].width = 32;
    cams[i].height = 24;
    cams[i].fx = cams[i].fy = 30.0f;
    cams[i].t = glm::vec3(0.1f * float(i), 0, 2);
  }
  write_cameras_json(out_dir + "/tmp.json", cams);
  put("cameras_json", "gen", read_file(out_dir + "/tmp.json"));
  fs::remove(out_dir + "/tmp.json");

  put("transforms_json", "gen",
      R"({"camera_angle_x": 0.69, "fl_y": 7.5, "k1": 0.01,
  "frames": [{"file_path": "./train/r_0", "transform_matrix": [[1,0,0,0],[0,1,0,0],[0,0,1,4],[0,0,0,1]]},
             {"file_path": "train/r_1.png", "w": 4, "h": 3, "transform_matrix": [[0,-1,0,1],[1,0,0,2],[0,0,1,3]]}]})");
  put("transforms_json", "gen_nerfstudio",
      R"({"fl_x": 5, "fl_y": 5, "cx": 2, "cy": 1.5, "w": 4, "h": 3, "k1": 0.1, "k2": 0.01, "p1": 0.001, "p2": 0, "k3": 0.001,
  "camera_model": "OPENCV", "frames": [{"file_path": "test/r_3.png", "transform_matrix": [[1,0,0,0],[0,1,0,0],[0,0,1,4],[0,0,0,1]]}]})");

  glm::dmat3 K(1.0);
  K[0][0] = 50;
  K[1][1] = 52;
  K[2][0] = 16;
  K[2][1] = 12;
  K[1][0] = 0.3;  // a little skew
  put("spare_pos", "gen", encode_projection_matrix(compose_projection(K, glm::dmat3(1.0), glm::dvec3(0.1, -0.2, 3))));
  put("spare_split", "gen",
      encode_spare_split({{"scan24", {{25, 22, 28}, {1, 2, 9}, "DTU"}}, {"synth_0", {{0, 1}, {2}, ""}}}));

  Image rgb(5, 4, 3), gray(3, 2, 1), rgba(2, 3, 4);
  for (Image* im : {&rgb, &gray, &rgba})
    for (size_t i = 0; i < im->pixels.size(); ++i) im->pixels[i] = float(i % 7) / 6.0f;
  for (const char* target : {"image_decode", "image_file"}) {
    put(target, "gen_rgb.png", encode_png(rgb));
    put(target, "gen_gray.png", encode_png(gray));
    put(target, "gen_rgba.png", encode_png(rgba));
    put(target, "gen_rgb.jpg", encode_jpeg(rgb));
    put(target, "gen_gray.jpg", encode_jpeg(gray));
  }
  const std::string p16 = out_dir + "/tmp16.png";
  save_png16(p16, gray);
  put("image_decode", "gen_gray16.png", read_file(p16));
  put("image_file", "gen_gray16.png", read_file(p16));
  fs::remove(p16);
  return 0;
}
