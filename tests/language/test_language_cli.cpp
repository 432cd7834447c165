// `sparsplat language` and `sparsplat query` end to end on the generated language scene
// written as a COLMAP dataset, plus the evaluation readers and bad input.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <glm/gtc/quaternion.hpp>
#include <nlohmann/json.hpp>

#include "engine/io/image_io.h"
#include "engine/language/language_pipeline.h"
#include "engine/language/ovs_eval.h"
#include "engine/io/gaussian_ply.h"
#include "language/language_scene.h"
#include "support/command_runner.h"
#include "support/test_support.h"

namespace sp {
namespace {
namespace fs = std::filesystem;

using Result = sp::test::CommandResult;
Result run_cli(const std::string& args) {
  const auto t0 = std::chrono::steady_clock::now();
  // One thread: the result is the same for any count, and a shared CI machine does not
  // stall on OpenMP barriers.
  Result r = sp::test::run_command(std::string(SPARSPLAT_CLI) + " --threads 1 " + args);
  std::printf("[cli %.1f s] %.60s...\n", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
              args.c_str());
  return r;
}

TEST(LanguageCli, TrainsQueriesAndScoresHeldOutViews) {
  const int views = 11, W = 80, H = 60;
  const test::LanguageScene scene = test::make_language_scene(views, W, H);
  const std::string root = test::temp_dir("lang_cli");
  const std::string data = root + "/scene";
  test::write_language_scene_colmap(scene, data);
  for (int v = 0; v < views; ++v) test::write_language_inputs(scene, v, data + "/language_features", 1);
  write_gaussian_ply(root + "/model.ply", scene.model);
  test::write_text_embeddings(scene, root + "/clip.npy");
  // 3D-OVS-style masks of the held-out views, and one LERF label file with a box polygon.
  const std::string split = " --train-ids 0,2,3,4,6,7,8,10 --test-ids 1,5,9";
  for (int v : {1, 5, 9}) {
    const fs::path d = fs::path(root) / "ovs" / fs::path(scene.cameras[size_t(v)].name).stem();
    fs::create_directories(d);
    for (int c = 0; c < test::LanguageScene::kClasses; ++c) {
      std::vector<uint8_t> m(size_t(W) * H);
      for (size_t px = 0; px < m.size(); ++px) m[px] = scene.object_map[size_t(v)][px] == c ? 1 : 0;
      if (std::count(m.begin(), m.end(), 1) < 20) continue;
      save_png((d / ("class " + std::to_string(c) + ".png")).string(), mask_image(m, W, H));
      if (v == 1 && c == 2) {
        const auto b = mask_bbox(m, W, H);
        fs::create_directories(fs::path(root) / "lerf");
        nlohmann::json label = {{"info", {{"name", "view_001.jpg"}, {"width", 2 * W}, {"height", 2 * H}}},
                                {"objects", {{{"category", "class 2"},
                                              {"segmentation", {{2 * b[0], 2 * b[1]}, {2 * b[2] + 2, 2 * b[1]},
                                                                {2 * b[2] + 2, 2 * b[3] + 2}, {2 * b[0], 2 * b[3] + 2}}},
                                              {"bbox", {2 * b[0], 2 * b[1], 2 * b[2] + 2, 2 * b[3] + 2}},
                                              {"iscrowd", 0}}}}};
        std::ofstream(fs::path(root) / "lerf" / "view_001.json") << label.dump();
      }
    }
  }

  const Result tr = run_cli("language " + root + "/model.ply " + data + split + " --features " + data +
                            "/language_features --iterations 240 --codes 16 --lr 0.02 -o " + root + "/out/lang.ply");
  ASSERT_EQ(tr.code, 0) << tr.output;
  ASSERT_TRUE(fs::exists(root + "/out/lang.language.npy"));
  const GaussianModel back = read_gaussian_ply(root + "/out/lang.ply");
  EXPECT_EQ(back.extra_channels, 3 * 16);
  EXPECT_EQ(back.means, scene.model.means);  // geometry frozen

  const std::string q = "query " + root + "/out/lang.ply --dataset " + data + split + " --text-embeddings " + root +
                        "/clip.npy --pool 3 --mask-pool 1 -o " + root + "/q";
  const Result qr = run_cli(q + " 'class 0' 'class 1' 'class 2' 'class 3' --ovs-masks " + root + "/ovs --lerf-labels " +
                            root + "/lerf");
  ASSERT_EQ(qr.code, 0) << qr.output;
  std::printf("%s", qr.output.c_str());
  const nlohmann::json doc = nlohmann::json::parse(std::ifstream(root + "/q/query.json"));
  EXPECT_GE(doc["ovs_3d"]["miou"].get<double>(), 0.8);
  EXPECT_EQ(doc["ovs_3d"]["queries"].get<int>(), 12);
  EXPECT_EQ(doc["lerf_ovs"]["queries"].get<int>(), 1);
  EXPECT_EQ(doc["lerf_ovs"]["localization_accuracy"].get<double>(), 1.0);
  EXPECT_GT(doc["lerf_ovs"]["miou"].get<double>(), 0.3);  // a box polygon around the object
  for (const char* f : {"view_005/class_1_heatmap.png", "view_005/class_1_mask.png"}) EXPECT_TRUE(fs::exists(root + "/q/" + f)) << f;

  // recon --language: RGB training, then the language stage on its result.
  const Result rc = run_cli("recon " + data + split + " --iterations 30 --init sfm --no-test-renders --language " + data +
                            "/language_features --language-iterations 20 -o " + root + "/r");
  ASSERT_EQ(rc.code, 0) << rc.output;
  EXPECT_EQ(read_gaussian_ply(root + "/r/point_cloud.ply").extra_channels, 3 * 64);
  EXPECT_TRUE(fs::exists(root + "/r/point_cloud.language.npy"));

  // Bad input: one line, exit 2.
  // (Each CLI start costs ~2 s here, so three cases; the loaders' own errors are unit-tested.)
  for (const std::string& bad :
       {q + " 'no such phrase'",
        "language " + root + "/model.ply " + data + " --features " + root + "/nowhere -o " + root + "/x.ply",
        "recon " + data + " -o " + root + "/r --language " + root + "/nowhere"}) {
    const Result r = run_cli(bad);
    EXPECT_EQ(r.code, 2) << bad << "\n" << r.output;
    // Log lines may precede it; the error itself is the one last line.
    const size_t at = r.output.rfind("error: ");
    ASSERT_NE(at, std::string::npos) << r.output;
    EXPECT_EQ(r.output.find('\n', at), r.output.size() - 1) << r.output;
    EXPECT_EQ(r.output.find("error: "), at) << r.output;
  }
}

TEST(OvsEval, PolygonFillAndLerfLabels) {
  std::vector<uint8_t> m;
  // Right triangle with legs of 40 px: area 800, pixel-centre count within a perimeter's worth.
  fill_polygon({{0, 0}, {40, 0}, {0, 40}}, 1.0, 1.0, 50, 50, m);
  const long n = std::count(m.begin(), m.end(), 1);
  EXPECT_NEAR(double(n), 800.0, 45.0);
  EXPECT_EQ(m[size_t(5) * 50 + 5], 1);
  EXPECT_EQ(m[size_t(30) * 50 + 30], 0);
  const std::string dir = test::temp_dir("lerf_labels");
  std::ofstream(dir + "/f.json") << R"({"info": {"name": "f.jpg", "width": 100, "height": 80},
    "objects": [{"category": "mug", "segmentation": [[10, 10], [30, 10], [30, 30], [10, 30]], "bbox": [10, 10, 30, 30], "iscrowd": false},
                {"category": "mug", "segmentation": [[60, 40], [70, 40], [70, 60]], "bbox": [60, 40, 70, 60], "iscrowd": 0}]})";
  const LerfFrame f = read_lerf_frame(dir + "/f.json", 50, 40);  // half size
  ASSERT_EQ(f.categories.count("mug"), 1u);
  const LerfCategory& c = f.categories.at("mug");
  EXPECT_EQ(c.boxes.size(), 2u);
  EXPECT_DOUBLE_EQ(c.boxes[1][2], 35.0);
  EXPECT_EQ(c.mask[size_t(10) * 50 + 10], 1);  // inside the first square (5..15 at half size)
  EXPECT_EQ(c.mask[size_t(2) * 50 + 2], 0);
  EXPECT_DOUBLE_EQ(mask_iou(c.mask, c.mask), 1.0);
  std::ofstream(dir + "/bad.json") << R"({"info": {"width": 10}, "objects": []})";
  test::expect_bad_input([&] { read_lerf_frame(dir + "/bad.json"); }, "unexpected LERF label layout");
}

}  // namespace
}  // namespace sp
