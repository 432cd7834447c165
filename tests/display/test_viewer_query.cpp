// sparsplat-view's query box and heatmap overlay under Xvfb on a generated language scene
// (tests/language/language_scene.h) whose field is set from the true object ids (no training,
// so the test stays fast): the screenshot with `--query` must be tinted where the engine's
// CPU relevance (query_relevance + query_overlay, what `sparsplat query` thresholds into its
// mask) exceeds the threshold, untouched elsewhere, and the mask must cover the queried
// object. Skips without the viewer target, xvfb-run or a Vulkan driver.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "display/display_test_support.h"
#include "engine/display/heatmap_overlay.h"
#include "engine/io/cameras_json.h"
#include "engine/io/image_io.h"
#include "engine/language/language_pipeline.h"
#include "engine/language/query_overlay.h"
#include "engine/io/gaussian_ply.h"
#include "language/language_scene.h"
#include "support/command_runner.h"
#include "support/test_support.h"

namespace fs = std::filesystem;

namespace sp {
namespace {

#ifdef SPARSPLAT_VIEW
// A field that knows the answer: per level, code c is the unit feature of class c (as the
// scene's segments carry it: class + 0.6 generic), and every Gaussian's logits favour its
// own class. L = 8 codes (6 classes + 2 unused), K = 4.
LanguageField oracle_field(const test::LanguageScene& s) {
  LanguageField f;
  f.levels = 3;
  f.codes = 8;
  f.dims = s.dims;
  f.top_k = 4;
  const int classes = test::LanguageScene::kClasses + test::LanguageScene::kBackdrops;
  Rng rng(3);
  for (int l = 0; l < f.levels; ++l)
    for (int c = 0; c < f.codes; ++c) {
      std::vector<float> v = c < classes ? std::vector<float>(s.class_embeddings.begin() + size_t(c) * s.dims,
                                                              s.class_embeddings.begin() + size_t(c + 1) * s.dims)
                                         : test::random_unit(rng, s.dims);
      double n = 0;
      for (int d = 0; d < s.dims; ++d) {
        if (c < classes) v[size_t(d)] += 0.6f * s.generic[size_t(d)];
        n += double(v[size_t(d)]) * v[size_t(d)];
      }
      for (float x : v) f.dictionary.push_back(float(x / std::sqrt(n)));
    }
  f.logits.assign(s.model.size() * size_t(f.levels * f.codes), 0.0f);
  for (size_t i = 0; i < s.model.size(); ++i)
    for (int l = 0; l < f.levels; ++l) f.logits[(i * f.levels + l) * f.codes + size_t(s.object_of[i])] = 6.0f;
  return f;
}

std::string xvfb_prefix(const std::string& out) {
  const std::string runtime = out + "/xdg";
  fs::create_directories(runtime);
  ::chmod(runtime.c_str(), 0700);  // Xvfb's clients want a private runtime folder
  return "XDG_RUNTIME_DIR=" + runtime + " timeout 120 xvfb-run -a -s \"-screen 0 640x480x24\" ";
}

TEST(ViewerQuery, HeatmapCoversTheCpuRelevanceMask) {
  if (std::system("command -v xvfb-run > /dev/null 2>&1") != 0) GTEST_SKIP() << "xvfb-run is not installed";
  SP_REQUIRE_VULKAN(dev, false);
  dev.reset();
  const int W = 96, H = 72, view = 0;
  test::LanguageScene scene = test::make_language_scene(3, W, H);
  const LanguageField field = oracle_field(scene);
  const std::string out = test::temp_dir("viewer-query");
  GaussianModel model = scene.model;
  store_language_field(model, field);
  write_gaussian_ply(out + "/lang.ply", model);
  write_dictionary(dictionary_path_for(out + "/lang.ply"), field);
  test::write_text_embeddings(scene, out + "/clip.npy");
  write_cameras_json(out + "/cameras.json", scene.cameras);
  // The object with most pixels in the view is queried.
  int cls = 0;
  std::vector<int> count(test::LanguageScene::kClasses, 0);
  for (int id : scene.object_map[view])
    if (id >= 0 && id < test::LanguageScene::kClasses) ++count[size_t(id)];
  cls = int(std::max_element(count.begin(), count.end()) - count.begin());
  const std::string phrase = "class " + std::to_string(cls);
  // SPARSPLAT_VIEWER_QUERY_OUT=<folder> keeps the scene's files (docs/images/viewer_query.png
  // is a viewer screenshot of them, docs/viewer.md).
  if (const char* keep = std::getenv("SPARSPLAT_VIEWER_QUERY_OUT")) {
    fs::create_directories(keep);
    for (const char* f : {"lang.ply", "lang.language.npy", "clip.npy", "clip.json", "cameras.json"})
      fs::copy_file(out + "/" + f, fs::path(keep) / f, fs::copy_options::overwrite_existing);
  }

  // The heatmap is the composite pass's on either drawing path (the CPU frame takes the splat
  // target's place).
  for (const std::string device : {"vulkan", "cpu"}) {
    SCOPED_TRACE(device);
    const std::string base_cmd = xvfb_prefix(out) + std::string(SPARSPLAT_VIEW) + " " + out + "/lang.ply --cameras " +
                                 out + "/cameras.json --camera " + std::to_string(view) +
                                 " --frames 2 --no-ui --exit --validation --device " + device +
                                 " --text-embeddings " + out + "/clip.npy";
    const std::string plain_png = out + "/plain-" + device + ".png", query_png = out + "/query-" + device + ".png";
    const float threshold = 0.4f, opacity = 0.8f;
    const test::CommandResult plain = test::run_command(base_cmd + " --screenshot " + plain_png);
    ASSERT_EQ(plain.code, 0) << plain.output;
    const test::CommandResult queried = test::run_command(
        base_cmd + " --exercise-window --query '" + phrase + "' --heatmap-opacity " + std::to_string(opacity) +
        " --heatmap-threshold " + std::to_string(threshold) + " --screenshot " + query_png);
    ASSERT_EQ(queried.code, 0) << queried.output;
    EXPECT_NE(queried.output.find("validation messages: 0"), std::string::npos) << queried.output;
    // Resized during the first frames (--exercise-window): the last map is at the camera's size.
    EXPECT_NE(queried.output.find("query '" + phrase + "' at 96x72"), std::string::npos) << queried.output;
    const Image base = load_image(plain_png, 3), shot = load_image(query_png, 3);
    ASSERT_EQ(shot.width, W);
    ASSERT_EQ(shot.height, H);

    // The CPU side: the engine's relevance for the same camera and phrase.
    const Camera cam = read_cameras_json(out + "/cameras.json").at(size_t(view));
    const QueryEmbeddings q = load_query_embeddings(out + "/clip.npy", "", {phrase});
    const RelevanceMaps maps = query_relevance(model, field, sparse_codes(field), cam, q);
    LerfOptions lo;
    lo.pool = scaled_lerf_pool(std::max(W, H));
    const QueryOverlay overlay = query_overlay(maps, 0, -1, lo);
    // What the composite should give on top of the plain screenshot.
    Image opaque(W, H, 4);
    for (size_t p = 0; p < base.pixel_count(); ++p) {
      for (int c = 0; c < 3; ++c) opaque.pixels[p * 4 + c] = base.pixels[p * 3 + c];
      opaque.pixels[p * 4 + 3] = 1.0f;
    }
    const Image expected = composite_heatmap(opaque, glm::vec3(0.0f), {W, H, overlay.values}, {true, opacity, threshold});

    auto tinted = [&](const Image& img, size_t p) {
      float d = 0;
      for (int c = 0; c < 3; ++c) d = std::max(d, std::abs(img.pixels[p * 3 + c] - base.pixels[p * 3 + c]));
      return d > 2.5f / 255.0f;
    };
    size_t in_mask = 0, in_mask_tinted = 0, outside = 0, outside_tinted = 0, disagree = 0, mask_and_object = 0,
           mask_or_object = 0;
    for (size_t p = 0; p < base.pixel_count(); ++p) {
      const bool m = overlay.values[p] > threshold;
      const bool shown = tinted(shot, p);
      (m ? in_mask : outside) += 1;
      (m ? in_mask_tinted : outside_tinted) += shown ? 1 : 0;
      disagree += shown != tinted(expected, p) ? 1 : 0;
      const bool object = scene.object_map[view][p] == cls;
      mask_and_object += m && object;
      mask_or_object += m || object;
    }
    const double iou = double(mask_and_object) / double(std::max<size_t>(mask_or_object, 1));
    std::printf("[ viewer query ] --device %s, '%s' (level %d): mask %zu px, %.1f%% tinted; outside %.2f%% tinted; "
                "screenshot vs CPU composite disagree on %.2f%% px, PSNR %.1f dB; mask IoU with the object %.2f\n",
                device.c_str(), phrase.c_str(), overlay.level + 1, in_mask,
                100.0 * in_mask_tinted / std::max<size_t>(in_mask, 1),
                100.0 * outside_tinted / std::max<size_t>(outside, 1), 100.0 * disagree / base.pixel_count(),
                test::psnr(shot, expected), iou);
    ASSERT_GT(in_mask, 50u);
    EXPECT_GE(double(in_mask_tinted), 0.95 * double(in_mask));
    EXPECT_LE(double(outside_tinted), 0.02 * double(outside));
    EXPECT_LE(double(disagree), 0.03 * double(base.pixel_count()));
    EXPECT_GE(test::psnr(shot, expected), 35.0);
    EXPECT_GE(iou, 0.5);
  }
}

TEST(ViewerQuery, BadQueryInputIsOneLineAndExitCode2) {
  const std::string out = test::temp_dir("viewer-query-bad");
  test::LanguageScene scene = test::make_language_scene(1, 16, 12, 32);
  write_gaussian_ply(out + "/plain.ply", scene.model);  // no language field
  test::write_text_embeddings(scene, out + "/clip.npy");
  const std::string view = std::string(SPARSPLAT_VIEW) + " " + out + "/plain.ply";
  test::CommandResult r = test::run_command(view + " --query 'class 1'");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("--query"), std::string::npos) << r.output;
  r = test::run_command(view + " --text-embeddings " + out + "/missing.npy");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("missing.npy"), std::string::npos) << r.output;
  r = test::run_command(view + " --query-level 7");
  EXPECT_EQ(r.code, 2) << r.output;
  // With a field: a phrase the file does not have.
  GaussianModel model = scene.model;
  LanguageField f;
  f.levels = 3;
  f.codes = 4;
  f.dims = 32;
  f.top_k = 2;
  f.dictionary.assign(size_t(3 * 4 * 32), 0.1f);
  f.logits.assign(model.size() * 12, 0.0f);
  store_language_field(model, f);
  write_gaussian_ply(out + "/lang.ply", model);
  write_dictionary(dictionary_path_for(out + "/lang.ply"), f);
  r = test::run_command(std::string(SPARSPLAT_VIEW) + " " + out + "/lang.ply --text-embeddings " + out +
                        "/clip.npy --query 'no such phrase'");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("no such phrase"), std::string::npos) << r.output;
}
#endif

}  // namespace
}  // namespace sp
