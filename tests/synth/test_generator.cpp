// sparsplat synth: a small scene written by the test (a textured cube whose triangles the
// test knows independently of the generator) rendered into every layout, then checked file
// by file: determinism, cameras, depth and masks against the mesh, and the loaders.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <functional>
#include <map>
#include <numeric>

#include "engine/core/atomic_file.h"
#include "engine/core/error.h"
#include "engine/io/colmap.h"
#include "engine/io/image_io.h"
#include "engine/io/npy.h"
#include "engine/io/spare.h"
#include "engine/scene/dataset.h"
#include "engine/synth/camera_rig.h"
#include "engine/synth/generator.h"
#include "engine/synth/scene_file.h"
#include "support/test_support.h"

namespace sp {
namespace {
namespace fs = std::filesystem;

using ::sp::test::expect_bad_input;

constexpr double kCubeScale = 0.8, kCubeYawDeg = 20, kCubeX = 0.1, kCubeY = -0.05;
constexpr int kViews = 6, kWidth = 64, kHeight = 48;

// The unit cube [-0.5, 0.5]^2 x [0, 1] as the OBJ file lists it (corners and faces).
const double kCorners[8][3] = {{-0.5, -0.5, 0}, {0.5, -0.5, 0}, {0.5, 0.5, 0}, {-0.5, 0.5, 0},
                               {-0.5, -0.5, 1}, {0.5, -0.5, 1}, {0.5, 0.5, 1}, {-0.5, 0.5, 1}};
const int kQuads[6][4] = {{1, 4, 3, 2}, {5, 6, 7, 8}, {1, 2, 6, 5}, {2, 3, 7, 6}, {3, 4, 8, 7}, {4, 1, 5, 8}};

// World-space triangles of the cube, computed here from the scene's numbers.
std::vector<std::array<glm::dvec3, 3>> cube_triangles() {
  const double a = kCubeYawDeg * 3.14159265358979323846 / 180;
  const auto place = [&](const double* p) {
    const double x = kCubeScale * p[0], y = kCubeScale * p[1], z = kCubeScale * p[2];
    return glm::dvec3(std::cos(a) * x - std::sin(a) * y + kCubeX, std::sin(a) * x + std::cos(a) * y + kCubeY, z);
  };
  std::vector<std::array<glm::dvec3, 3>> tris;
  for (const auto& q : kQuads) {
    tris.push_back({place(kCorners[q[0] - 1]), place(kCorners[q[1] - 1]), place(kCorners[q[2] - 1])});
    tris.push_back({place(kCorners[q[0] - 1]), place(kCorners[q[2] - 1]), place(kCorners[q[3] - 1])});
  }
  return tris;
}

double point_triangle_distance(const glm::dvec3& p, const std::array<glm::dvec3, 3>& t) {
  // Distance to the plane when the projection falls inside, else to the nearest edge.
  const glm::dvec3 n = glm::normalize(glm::cross(t[1] - t[0], t[2] - t[0]));
  const glm::dvec3 q = p - glm::dot(p - t[0], n) * n;
  bool inside = true;
  for (int k = 0; k < 3; ++k)
    if (glm::dot(glm::cross(t[(k + 1) % 3] - t[k], q - t[k]), n) < 0) inside = false;
  if (inside) return std::abs(glm::dot(p - t[0], n));
  double best = 1e30;
  for (int k = 0; k < 3; ++k) {
    const glm::dvec3 a = t[k], b = t[(k + 1) % 3];
    const double s = std::clamp(glm::dot(p - a, b - a) / glm::dot(b - a, b - a), 0.0, 1.0);
    best = std::min(best, glm::length(p - (a + s * (b - a))));
  }
  return best;
}

// Writes cube.obj / cube.mtl / checker.png and scene.json into `dir`; returns the JSON path.
std::string write_scene(const std::string& dir, const std::string& extra = "") {
  std::string obj = "mtllib cube.mtl\nusemtl checker\n";
  for (const auto& c : kCorners) obj += "v " + std::to_string(c[0]) + " " + std::to_string(c[1]) + " " + std::to_string(c[2]) + "\n";
  obj += "vt 0 0\nvt 1 0\nvt 1 1\nvt 0 1\n";
  for (const auto& q : kQuads)
    obj += "f " + std::to_string(q[0]) + "/1 " + std::to_string(q[1]) + "/2 " + std::to_string(q[2]) + "/3 " +
           std::to_string(q[3]) + "/4\n";
  write_text_atomic(dir + "/cube.obj", obj);
  write_text_atomic(dir + "/cube.mtl", "newmtl checker\nKd 1 1 1\nKs 0.3 0.3 0.3\nNs 40\nmap_Kd checker.png\n");
  Image tex(4, 4, 3);
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x) {
      tex.at(x, y, 0) = (x + y) % 2 ? 0.9f : 0.2f;
      tex.at(x, y, 1) = 0.3f + 0.15f * float(x);
      tex.at(x, y, 2) = 0.8f - 0.15f * float(y);
    }
  save_png(dir + "/checker.png", tex);
  const std::string json = R"({
    "name": "cube",
    "seed": 5,
    "image": {"width": 64, "height": 48, "supersampling": 3},
    "objects": [{"obj": "cube.obj", "translate": [0.1, -0.05, 0], "rotate_deg": [0, 0, 20], "scale": 0.8}],
    "rig": {"views": 6, "rows": 2},
    "split": {"test_count": 2},
    "points": 400)" + extra + "\n}\n";
  write_text_atomic(dir + "/scene.json", json);
  return dir + "/scene.json";
}

struct Generated {
  std::string scene_file, out;
  synth::SynthResult result;
};

// One generation shared by the tests that only read it.
const Generated& generated() {
  static const Generated g = [] {
    Generated r;
    const std::string dir = test::temp_dir("synth_scene");
    r.scene_file = write_scene(dir);
    r.out = test::temp_dir("synth_out");
    r.result = synth::generate_dataset(synth::read_scene(r.scene_file), {}, r.out);
    return r;
  }();
  return g;
}

std::map<std::string, std::string> read_tree(const std::string& root) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file()) files[fs::relative(e.path(), root).string()] = read_file(e.path().string());
  return files;
}

TEST(SynthGenerator, WritesEveryLayout) {
  const Generated& g = generated();
  const auto files = read_tree(g.out);
  for (int i = 0; i < kViews; ++i) {
    for (const std::string& f : {"cube/" + spare_image_name(i, 3), "cube/" + spare_pos_name(i), "cube/mask/" + spare_mask_name(i),
                                "cube/depth/00" + std::to_string(i) + ".npy", "cube_colmap/images/" + spare_image_name(i, 3),
                                "cube_colmap/mask/" + spare_mask_name(i), "cube_colmap/depth/00" + std::to_string(i) + ".npy"})
      EXPECT_TRUE(files.count(f)) << f;
    // Both layouts hold the same pixels.
    EXPECT_EQ(files.at("cube/" + spare_image_name(i, 3)), files.at("cube_colmap/images/" + spare_image_name(i, 3)));
  }
  for (const char* f : {"split.json", "cube_synth.json", "cube_colmap/sparse/0/cameras.txt", "cube_colmap/sparse/0/images.txt",
                        "cube_colmap/sparse/0/points3D.txt"})
    EXPECT_TRUE(files.count(f)) << f;
  EXPECT_EQ(g.result.cameras.size(), size_t(kViews));
  const Image im = load_image(g.out + "/cube/" + spare_image_name(0, 3));
  EXPECT_EQ(im.width, kWidth);
  EXPECT_EQ(im.height, kHeight);
  EXPECT_EQ(im.channels, 3);
}

TEST(SynthGenerator, SameSeedGivesIdenticalFilesAndAnotherSeedDoesNot) {
  const Generated& g = generated();
  const std::string again = test::temp_dir("synth_again");
  synth::generate_dataset(synth::read_scene(g.scene_file), {}, again);
  const auto a = read_tree(g.out), b = read_tree(again);
  ASSERT_EQ(a.size(), b.size());
  size_t bytes = 0;
  for (const auto& [name, content] : a) {
    ASSERT_TRUE(b.count(name)) << name;
    EXPECT_TRUE(content == b.at(name)) << name << " differs";
    bytes += content.size();
  }
  EXPECT_GT(bytes, 10000u);

  synth::SynthOptions o;
  o.seed = 6;
  o.colmap = false;
  const std::string other = test::temp_dir("synth_seed6");
  synth::generate_dataset(synth::read_scene(g.scene_file), o, other);
  EXPECT_NE(read_file(other + "/cube/pos_001.txt"), a.at("cube/pos_001.txt"));  // the rig's jitter follows the seed
}

TEST(SynthGenerator, PosFilesDecomposeToTheGeneratorsCameras) {
  const Generated& g = generated();
  const auto rig = synth::make_rig(g.result.scene);
  ASSERT_EQ(rig.size(), size_t(kViews));
  for (int i = 0; i < kViews; ++i) {
    const std::string pos = g.out + "/cube/" + spare_pos_name(i);
    const DecomposedProjection d = decompose_projection(read_projection_matrix(pos), pos);
    const synth::RigCamera& c = rig[size_t(i)];
    for (int a = 0; a < 3; ++a) {
      for (int b = 0; b < 3; ++b) {
        EXPECT_NEAR(d.K[a][b], c.K[a][b], 1e-6) << pos;
        EXPECT_NEAR(d.R[a][b], c.R[a][b], 1e-6) << pos;
      }
      EXPECT_NEAR(d.t[a], c.t[a], 1e-6) << pos;
    }
    // The rig looks at its target: the target projects to the principal point.
    const glm::dvec3 x = c.R * g.result.scene.rig.target + c.t;
    EXPECT_NEAR(c.K[0][0] * x.x / x.z + c.K[2][0], kWidth / 2.0, 1e-9);
    EXPECT_NEAR(c.K[1][1] * x.y / x.z + c.K[2][1], kHeight / 2.0, 1e-9);
  }
}

TEST(SynthGenerator, DepthAndMaskAgreeWithTheMesh) {
  const Generated& g = generated();
  const auto cube = cube_triangles();
  const auto& scene = g.result.scene;
  size_t object_pixels = 0, platform_pixels = 0;
  for (int i = 0; i < kViews; ++i) {
    const std::string base = g.out + "/cube/";
    const NpyArray depth = read_npy(base + "depth/00" + std::to_string(i) + ".npy");
    ASSERT_EQ(depth.dtype, "<f4");
    ASSERT_EQ(depth.shape, (std::vector<size_t>{size_t(kHeight), size_t(kWidth)}));
    const Image mask = load_image(base + "mask/" + spare_mask_name(i));
    ASSERT_EQ(mask.channels, 1);
    const DecomposedProjection cam = decompose_projection(read_projection_matrix(base + spare_pos_name(i)), "pos");
    for (int y = 0; y < kHeight; ++y)
      for (int x = 0; x < kWidth; ++x) {
        const double z = depth.data[size_t(y) * kWidth + size_t(x)];
        ASSERT_GT(z, 0) << "every ray hits something inside the box";
        // Back-project the pixel centre at its depth into the world.
        const glm::dvec3 xc(((x + 0.5) - cam.K[2][0]) / cam.K[0][0] * z, ((y + 0.5) - cam.K[2][1]) / cam.K[1][1] * z, z);
        const glm::dvec3 p = glm::transpose(cam.R) * (xc - cam.t);
        double to_cube = 1e30;
        for (const auto& t : cube) to_cube = std::min(to_cube, point_triangle_distance(p, t));
        const float m = mask.at(x, y, 0);
        ASSERT_TRUE(m == 0.0f || m == 1.0f) << "masks are binary";
        if (m == 1.0f) {
          ++object_pixels;
          EXPECT_LT(to_cube, 1e-4) << "view " << i << " pixel " << x << "," << y;
        } else {
          // Not the object: on the platform's top or the box's walls, floor or lid.
          const double hx = scene.platform_size.x / 2, hy = scene.platform_size.y / 2;
          const double bx = scene.box_size.x / 2, by = scene.box_size.y / 2, floor = -scene.platform_thickness;
          const bool on_platform = std::abs(p.z) < 1e-4 && std::abs(p.x) <= hx + 1e-4 && std::abs(p.y) <= hy + 1e-4;
          const bool on_platform_side = (std::abs(std::abs(p.x) - hx) < 1e-4 || std::abs(std::abs(p.y) - hy) < 1e-4) &&
                                        p.z <= 1e-4 && p.z >= floor - 1e-4;
          const bool on_box = std::abs(std::abs(p.x) - bx) < 1e-3 || std::abs(std::abs(p.y) - by) < 1e-3 ||
                              std::abs(p.z - floor) < 1e-3 || std::abs(p.z - (floor + scene.box_size.z)) < 1e-3;
          EXPECT_TRUE(on_platform || on_platform_side || on_box) << "view " << i << " pixel " << x << "," << y;
          platform_pixels += on_platform;
        }
      }
  }
  EXPECT_GT(object_pixels, size_t(kViews * 50));
  EXPECT_GT(platform_pixels, size_t(kViews * 50));
}

TEST(SynthGenerator, SpareLoaderReadsTheGeneratedLayout) {
  const Generated& g = generated();
  DatasetOptions o;
  o.train_views = 3;
  const Dataset d = Dataset::load(g.out + "/cube", o);
  EXPECT_EQ(d.format, "spare");
  ASSERT_EQ(d.size(), size_t(kViews));
  std::vector<int> train(g.result.split.input_views.begin(), g.result.split.input_views.begin() + 3);
  std::sort(train.begin(), train.end());
  EXPECT_EQ(d.train_ids, train);
  EXPECT_EQ(d.test_ids, g.result.split.test_views);
  EXPECT_EQ(g.result.split.test_views.size(), 2u);
  ASSERT_EQ(d.mask_paths.size(), size_t(kViews));
  for (int i = 0; i < kViews; ++i) {
    const Camera& c = d.cameras[size_t(i)];
    const Camera e = g.result.cameras[size_t(i)].to_camera(spare_image_name(i, 3));
    EXPECT_EQ(c.name, e.name);
    EXPECT_EQ(c.width, kWidth);
    EXPECT_NEAR(c.fx, e.fx, 1e-3f);
    EXPECT_NEAR(c.cx, e.cx, 1e-4f);
    for (int a = 0; a < 3; ++a) {
      EXPECT_NEAR(c.t[a], e.t[a], 1e-5f);
      for (int b = 0; b < 3; ++b) EXPECT_NEAR(c.R[a][b], e.R[a][b], 1e-6f);
    }
    const Image m = d.mask(i);
    ASSERT_EQ(m.width, kWidth);
    const Image file = load_image(d.mask_paths[size_t(i)]);
    EXPECT_EQ(m.pixels, file.pixels);
  }
  EXPECT_EQ(Dataset::load(g.out, o).size(), size_t(kViews));  // the root with split.json names its one scene
}

TEST(SynthGenerator, ColmapOutputLoadsAndIsConsistent) {
  const Generated& g = generated();
  const ColmapModel model = read_colmap_model(g.out + "/cube_colmap/sparse/0");
  ASSERT_EQ(model.images.size(), size_t(kViews));
  ASSERT_GT(model.points.size(), 50u);
  EXPECT_EQ(model.points.size(), g.result.points);
  std::map<uint32_t, const ColmapImage*> by_id;
  for (const auto& im : model.images) by_id[im.id] = &im;
  // Every track entry names a 2D point that names the 3D point back, at its projection.
  for (size_t k = 0; k < model.points.size(); ++k) {
    const uint64_t n = model.points.track_offsets[k + 1] - model.points.track_offsets[k];
    EXPECT_GE(n, 2u);
    const glm::dvec3 X(model.points.xyz[3 * k], model.points.xyz[3 * k + 1], model.points.xyz[3 * k + 2]);
    for (uint64_t e = model.points.track_offsets[k]; e < model.points.track_offsets[k + 1]; ++e) {
      const ColmapImage& im = *by_id.at(model.points.track_image_ids[e]);
      const uint32_t idx = model.points.track_point2d_idx[e];
      ASSERT_LT(idx, im.point3d_ids.size());
      EXPECT_EQ(im.point3d_ids[idx], int64_t(model.points.ids[k]));
      const glm::dvec3 x = quaternion_to_rotation(im.qvec) * X + glm::dvec3(im.tvec[0], im.tvec[1], im.tvec[2]);
      const auto& p = model.cameras[0].params;
      EXPECT_NEAR(p[0] * x.x / x.z + p[2], im.xys[2 * idx], 1e-3);
      EXPECT_NEAR(p[1] * x.y / x.z + p[3], im.xys[2 * idx + 1], 1e-3);
    }
  }
  DatasetOptions o;
  o.train_ids = {g.result.split.input_views[0], g.result.split.input_views[1], g.result.split.input_views[2]};
  o.test_ids = g.result.split.test_views;
  const Dataset d = Dataset::load(g.out + "/cube_colmap", o);
  EXPECT_EQ(d.format, "colmap");
  ASSERT_EQ(d.size(), size_t(kViews));
  EXPECT_TRUE(d.points.has_tracks);
  EXPECT_GT(d.points.size(), 20u);
  for (int i = 0; i < kViews; ++i) {
    EXPECT_EQ(d.cameras[size_t(i)].name, spare_image_name(i, 3));
    EXPECT_NEAR(d.cameras[size_t(i)].t.z, float(g.result.cameras[size_t(i)].t.z), 1e-5f);
  }
}

TEST(SynthGenerator, OptionsOverrideTheSceneAndRerunsReplaceStaleViews) {
  const Generated& g = generated();
  const std::string out = test::temp_dir("synth_options");
  synth::SynthOptions o;
  o.width = 40;  // height keeps the scene's aspect: 30
  o.views = 8;
  o.lighting = 5;
  o.supersampling = 1;
  o.colmap = false;
  auto r = synth::generate_dataset(synth::read_scene(g.scene_file), o, out);
  EXPECT_EQ(r.lighting, 5);
  const Image im = load_image(out + "/cube/" + spare_image_name(7, 5));
  EXPECT_EQ(im.width, 40);
  EXPECT_EQ(im.height, 30);
  EXPECT_FALSE(fs::exists(out + "/cube_colmap"));
  // Fewer views into the same folder: views 7 and 8 are gone; lighting 5 images stay beside lighting 3's.
  o.views = 6;
  o.lighting = 3;
  synth::generate_dataset(synth::read_scene(g.scene_file), o, out);
  EXPECT_FALSE(fs::exists(out + "/cube/" + spare_pos_name(7)));
  EXPECT_FALSE(fs::exists(out + "/cube/" + spare_image_name(7, 5)));
  EXPECT_FALSE(fs::exists(out + "/cube/mask/007.png"));
  EXPECT_TRUE(fs::exists(out + "/cube/" + spare_image_name(5, 5)));
  EXPECT_EQ(read_spare_scene(out + "/cube").lighting, 3);
  EXPECT_EQ(read_spare_scene(out + "/cube").lightings, (std::vector<int>{3, 5}));

  o = {};
  o.lighting = 7;
  expect_bad_input([&] { synth::generate_dataset(synth::read_scene(g.scene_file), o, out); }, "--lighting");
  o = {};
  o.supersampling = 2;
  expect_bad_input([&] { synth::generate_dataset(synth::read_scene(g.scene_file), o, out); }, "supersampling");
}

TEST(SynthScene, RejectsBadSceneFiles) {
  const std::string dir = test::temp_dir("synth_bad_scene");
  write_scene(dir);
  const auto bad = [&](const std::string& json, const std::string& needle) {
    write_text_atomic(dir + "/bad.json", json);
    expect_bad_input([&] { synth::read_scene(dir + "/bad.json"); }, needle);
  };
  bad("{\"objects\": [", "not valid JSON");
  bad(R"({"objects": []})", "objects");
  bad(R"({"objects": [{"obj": "cube.obj"}], "colour": 1})", "colour: unknown key");
  bad(R"({"objects": [{"obj": "cube.obj", "scale": -1}]})", "objects[0].scale");
  bad(R"({"objects": [{"obj": "cube.obj"}], "image": {"supersampling": 2}})", "supersampling must be odd");
  bad(R"({"objects": [{"obj": "cube.obj"}], "rig": {"views": 4}, "split": {"input_views": [4]}})", "out of range");
  bad(R"({"objects": [{"obj": "cube.obj"}], "rig": {"radius": 50}})", "does not fit inside the box");
  bad(R"({"objects": [{"obj": "cube.obj"}], "lights": [{"type": "spot", "position": [0, 0, 1]}]})", "lights[0].type");
  write_text_atomic(dir + "/missing.json", R"({"objects": [{"obj": "nothere.obj"}]})");
  expect_bad_input([&] { synth::generate_dataset(synth::read_scene(dir + "/missing.json"), {}, dir + "/o"); }, "nothere.obj");
  write_text_atomic(dir + "/nomtl.obj", "mtllib gone.mtl\nv 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n");
  write_text_atomic(dir + "/nomtl.json", R"({"objects": [{"obj": "nomtl.obj"}]})");
  expect_bad_input([&] { synth::generate_dataset(synth::read_scene(dir + "/nomtl.json"), {}, dir + "/o"); }, "nomtl.obj");
  write_text_atomic(dir + "/notex.mtl", "newmtl m\nmap_Kd gone.png\n");
  write_text_atomic(dir + "/notex.obj", "mtllib notex.mtl\nusemtl m\nv 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n");
  write_text_atomic(dir + "/notex.json", R"({"objects": [{"obj": "notex.obj"}]})");
  expect_bad_input([&] { synth::generate_dataset(synth::read_scene(dir + "/notex.json"), {}, dir + "/o"); }, "gone.png");
}

TEST(SynthRig, SplitIsDisjointAndDtuLike) {
  synth::SceneDesc d;
  d.objects.push_back({});
  d.lighting_setups = synth::default_lighting_setups();
  d.rig.views = 49;
  const auto rig = synth::make_rig(d);
  ASSERT_EQ(rig.size(), 49u);
  const auto s = synth::choose_split(d, rig);
  EXPECT_EQ(s.input_views.size(), 9u);
  EXPECT_EQ(s.test_views.size(), 10u);
  for (int i : s.input_views) EXPECT_FALSE(std::count(s.test_views.begin(), s.test_views.end(), i));
  // The first input view is the one nearest the cap's centre; the next two flank it.
  const auto& c = rig[size_t(s.input_views[0])];
  EXPECT_NEAR(c.azimuth_deg, 0.0, 10.0);
  EXPECT_NEAR(c.elevation_deg, 35.0, 10.0);
  EXPECT_LT(rig[size_t(s.input_views[1])].azimuth_deg, c.azimuth_deg);
  EXPECT_GT(rig[size_t(s.input_views[2])].azimuth_deg, c.azimuth_deg);
  for (const auto& cam : rig) {
    EXPECT_GE(cam.elevation_deg, 15.0 - 0.51);
    EXPECT_LE(cam.elevation_deg, 55.0 + 0.51);
    EXPECT_NEAR(glm::determinant(cam.R), 1.0, 1e-12);
  }
}

}  // namespace
}  // namespace sp

namespace sp {
namespace {

TEST(SynthArrangement, OneSeedOneArrangementOfTheSameObjects) {
  const synth::SceneDesc base = synth::read_scene(std::string(SPARSPLAT_SOURCE_DIR) + "/scenes/demo.json");
  const synth::SceneDesc a = synth::arrange_scene(base, 3), b = synth::arrange_scene(base, 3),
                         c = synth::arrange_scene(base, 4);
  ASSERT_EQ(a.objects.size(), base.objects.size());
  EXPECT_EQ(a.name, base.name + "_3");
  EXPECT_EQ(a.seed, 3u);
  bool moved = false, differs = false;
  for (size_t i = 0; i < a.objects.size(); ++i) {
    EXPECT_EQ(a.objects[i].obj_path, base.objects[i].obj_path);  // the same meshes
    EXPECT_EQ(a.objects[i].translate, b.objects[i].translate);
    EXPECT_EQ(a.objects[i].scale, b.objects[i].scale);
    moved |= a.objects[i].translate != base.objects[i].translate;
    differs |= a.objects[i].translate != c.objects[i].translate;
    EXPECT_GE(a.objects[i].scale.x, 0.75 * base.objects[i].scale.x - 1e-9);
    EXPECT_LE(a.objects[i].scale.x, 1.25 * base.objects[i].scale.x + 1e-9);
  }
  EXPECT_TRUE(moved);
  EXPECT_TRUE(differs);
  synth::validate_scene(a);  // still a valid scene
}

}  // namespace
}  // namespace sp
