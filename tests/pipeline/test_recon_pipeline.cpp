// engine/pipeline/recon.h: every stage runs or says why not, in order; outputs as promised;
// bad input before any output; the same seed gives the same model.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "engine/core/error.h"
#include "engine/io/gaussian_ply.h"
#include "engine/pipeline/devices.h"
#include "engine/pipeline/recon.h"
#include "language/language_scene.h"
#include "support/synthetic_scene.h"
#include "support/test_support.h"

namespace sp {
namespace {
namespace fs = std::filesystem;

// Everything the pipeline tells its observer, in order.
struct RecordingObserver final : ReconObserver {
  std::vector<std::string> events;
  std::vector<StageReport> finished;
  long train_progress = 0, last_train_step = 0;
  std::vector<std::string> logs;
  void stage_started(ReconStage stage, const std::string&, long total) override {
    events.push_back(std::string("start ") + stage_name(stage) + " " + std::to_string(total));
  }
  void stage_finished(const StageReport& r) override {
    events.push_back(std::string(r.ran ? "done " : "skip ") + stage_name(r.stage));
    finished.push_back(r);
  }
  void progress(ReconStage stage, long done, const std::string&) override {
    if (stage != ReconStage::Train) return;
    ++train_progress;
    last_train_step = done;
  }
  void log(LogSeverity, const std::string& m) override { logs.push_back(m); }
};

struct Scene {
  std::string root;
  Dataset data;
};
Scene small_scene(const std::string& label) {
  Scene s;
  s.root = test::temp_dir(label);
  const test::SyntheticSceneOptions o = test::small_ring_scene();
  test::write_synthetic_colmap_scene(s.root + "/data", o);
  DatasetOptions d;
  d.train_ids = {0, 2, 4, 6};
  d.test_ids = {1, 5};
  s.data = Dataset::load(s.root + "/data", d);
  return s;
}

ReconConfig quick_config(const std::string& output) {
  ReconConfig c;
  c.output = output;
  c.iterations = 20;
  c.device = "cpu";
  c.regularizers.preset = "off";
  return c;
}

TEST(ReconPipeline, EveryStageReportsOnceInOrderAndWritesTheOutputs) {
  Scene s = small_scene("pipe-stages");
  const std::string out = s.root + "/out";
  RecordingObserver obs;
  const ReconResult r = run_recon(s.data, quick_config(out), obs);

  const std::vector<std::string> expected = {"start initialize 0", "done initialize", "start train 20", "done train",
                                             "skip language",      "start evaluate 2", "done evaluate",  "start save 0",
                                             "done save"};
  EXPECT_EQ(obs.events, expected);
  ASSERT_EQ(r.stages.size(), size_t(kReconStages));
  for (int i = 0; i < kReconStages; ++i) {
    EXPECT_EQ(r.stages[size_t(i)].stage, ReconStage(i));
    EXPECT_FALSE(r.stages[size_t(i)].detail.empty()) << stage_name(ReconStage(i));  // why, or what it did
  }
  EXPECT_EQ(obs.train_progress, 20);
  EXPECT_EQ(obs.last_train_step, 20);
  EXPECT_EQ(r.iterations, 20);
  EXPECT_EQ(r.scores.views.size(), 2u);
  EXPECT_EQ(r.initial_scores.views.size(), 2u);
  EXPECT_GT(r.scores.mean_psnr, r.initial_scores.mean_psnr);
  EXPECT_EQ(r.device, "cpu");
  EXPECT_EQ(r.init, "mvs");  // auto: 120 SfM points (< 1000) and 4 train views
  // The engine's log lines went to the observer, not to stderr.
  EXPECT_FALSE(obs.logs.empty());

  for (const char* f : {"point_cloud.ply", "cameras.json", "split.json", "metrics.json", "report.html",
                        "checkpoints/last.bin", "test/renders/view_001.png", "test/gt/view_005.png", "test/side_by_side/view_005.png"})
    EXPECT_TRUE(fs::is_regular_file(fs::path(out) / f)) << f;
  const GaussianModel saved = read_gaussian_ply(out + "/point_cloud.ply");
  EXPECT_EQ(saved.means, r.model.means);
  const auto metrics = nlohmann::json::parse(std::ifstream(out + "/metrics.json"));
  EXPECT_NEAR(metrics["mean"]["psnr"].get<double>(), r.scores.mean_psnr, 1e-9);
  ASSERT_EQ(metrics["stages"].size(), size_t(kReconStages));
  EXPECT_EQ(metrics["stages"][2]["stage"], "language");
  EXPECT_EQ(metrics["stages"][2]["ran"], false);
}

TEST(ReconPipeline, TheReportsCurvesAndCheckpointsLeaveTheTrainingAsItIs) {
  Scene s = small_scene("pipe-report");
  const std::string out = s.root + "/out";
  RecordingObserver a, b;
  ReconConfig config = quick_config(out);
  config.options_json = R"({"iterations": 20, "init": null, "train-ids": []})";  // as the CLI writes them
  const ReconResult with = run_recon(s.data, config, a);
  const ReconResult without = run_recon(s.data, quick_config(""), b);
  // The held-out renders only read the model: the same run with and without them.
  EXPECT_EQ(with.model.means, without.model.means);
  EXPECT_EQ(with.model.sh, without.model.sh);

  const auto h = nlohmann::json::parse(std::ifstream(out + "/metrics.json"))["history"];
  EXPECT_EQ(h["iteration"].back().get<double>(), 20.0);
  EXPECT_EQ(h["loss"].size(), h["iteration"].size());
  EXPECT_EQ(h["gaussians"].back().get<double>(), double(with.model.size()));
  EXPECT_EQ(h["heldout"]["iteration"], (std::vector<double>{0, 4, 8, 12, 16, 20}));
  // Both test views are the held-out subset here: its first point is the untrained start and
  // its last the final evaluation, computed by the same renders.
  EXPECT_NEAR(h["heldout"]["psnr"].front().get<double>(), with.initial_scores.mean_psnr, 1e-9);
  EXPECT_NEAR(h["heldout"]["psnr"].back().get<double>(), with.scores.mean_psnr, 1e-9);
  EXPECT_EQ(h["heldout"]["what"], "PSNR, 2 of 2 test views");

  std::ifstream page(out + "/report.html");
  const std::string html((std::istreambuf_iterator<char>(page)), std::istreambuf_iterator<char>());
  size_t images = 0;
  for (size_t p = html.find("data:image/jpeg;base64,"); p != std::string::npos;
       p = html.find("data:image/jpeg;base64,", p + 1))
    ++images;
  EXPECT_EQ(images, 2u);  // one side-by-side per test view
  EXPECT_NE(html.find("href=\"test/side_by_side/view_005.png\""), std::string::npos);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  // The options table lists what was given or defaulted, not what the preset decides (null).
  EXPECT_NE(html.find("<th>--iterations</th><td>20</td>"), std::string::npos);
  EXPECT_EQ(html.find("<th>--init</th>"), std::string::npos);
  EXPECT_EQ(html.find("<th>--train-ids</th>"), std::string::npos);
  for (const char* stage : {"initialize", "train", "language", "evaluate", "save"})
    EXPECT_NE(html.find(std::string("<td>") + stage + "</td>"), std::string::npos) << stage;
}

TEST(ReconPipeline, SkippedStagesSayWhyAndNothingIsWrittenWithoutAnOutputFolder) {
  Scene s = small_scene("pipe-skip");
  ReconConfig c = quick_config("");
  c.test_views = false;
  RecordingObserver obs;
  const ReconResult r = run_recon(s.data, c, obs);
  ASSERT_EQ(r.stages.size(), size_t(kReconStages));
  const StageReport& evaluate = r.stages[size_t(ReconStage::Evaluate)];
  EXPECT_FALSE(evaluate.ran);
  EXPECT_NE(evaluate.detail.find("not asked"), std::string::npos) << evaluate.detail;
  const StageReport& save = r.stages[size_t(ReconStage::Save)];
  EXPECT_FALSE(save.ran);
  EXPECT_NE(save.detail.find("no output folder"), std::string::npos) << save.detail;
  EXPECT_TRUE(r.scores.views.empty());
  EXPECT_TRUE(r.initial_scores.views.empty());
  EXPECT_GT(r.model.size(), 0u);
}

TEST(ReconPipeline, TheLanguageStageRunsWhenFeaturesAreGiven) {
  const test::LanguageScene scene = test::make_language_scene(7, 48, 36, 64);
  const std::string root = test::temp_dir("pipe-lang");
  test::write_language_scene_colmap(scene, root + "/data");
  for (int v = 0; v < 7; ++v) test::write_language_inputs(scene, v, root + "/data/language_features", 1);
  DatasetOptions d;
  d.train_ids = {0, 2, 3, 5};
  d.test_ids = {1, 4};
  const Dataset data = Dataset::load(root + "/data", d);
  ReconConfig c = quick_config(root + "/out");
  c.init.method = "sfm";
  c.language.features = root + "/data/language_features";
  c.language.iterations = 8;
  RecordingObserver obs;
  const ReconResult r = run_recon(data, c, obs);
  const StageReport& lang = r.stages[size_t(ReconStage::Language)];
  EXPECT_TRUE(lang.ran) << lang.detail;
  EXPECT_EQ(r.model.extra_channels, 3 * 64);
  EXPECT_EQ(read_gaussian_ply(root + "/out/point_cloud.ply").extra_channels, 3 * 64);
  EXPECT_TRUE(fs::is_regular_file(root + "/out/point_cloud.language.npy"));
}

TEST(ReconPipeline, BadInputLeavesNoOutputFolder) {
  Scene s = small_scene("pipe-bad");
  RecordingObserver obs;
  for (auto edit : std::vector<std::function<void(ReconConfig&)>>{
           [&](ReconConfig& c) { c.prior.model = s.root + "/no-such-prior.pt"; },
           [&](ReconConfig& c) { c.resume = s.root + "/missing.bin"; },
           [&](ReconConfig& c) { c.language.features = s.root + "/nowhere"; },
           [&](ReconConfig& c) { c.init.method = "colmap-please"; },
           [&](ReconConfig& c) { c.regularizers.co_training = "maybe"; },
           [&](ReconConfig& c) { c.device = "vulkan"; },
           [&](ReconConfig& c) { c.background = glm::vec3(0.5f, 2.0f, 0.0f); }}) {
    ReconConfig c = quick_config(s.root + "/out");
    edit(c);
    try {
      (void)run_recon(s.data, c, obs);
      ADD_FAILURE() << "accepted a bad config";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::BadInput) << e.what();
    }
    EXPECT_FALSE(fs::exists(s.root + "/out")) << "a refused run left its output folder";
  }
}

TEST(ReconPipeline, SameSeedSameModelAndTheRegistryNamesItsDevices) {
  Scene s = small_scene("pipe-seed");
  RecordingObserver a, b;
  ReconConfig c = quick_config("");
  c.init.method = "random";
  c.init.gaussians.random_points = 300;
  c.seed = 9;
  const ReconResult r1 = run_recon(s.data, c, a), r2 = run_recon(s.data, c, b);
  EXPECT_EQ(r1.model.means, r2.model.means);
  EXPECT_EQ(r1.model.sh, r2.model.sh);
  c.seed = 10;
  EXPECT_NE(run_recon(s.data, c, a).model.means, r1.model.means);

  EXPECT_EQ(resolve_device("cpu", DeviceUse::Train, "test"), "cpu");
  test::expect_bad_input([] { (void)resolve_device("metal", DeviceUse::Render, "test"); }, "expected auto, cpu, cuda or vulkan");
  test::expect_bad_input([] { (void)resolve_device("vulkan", DeviceUse::Train, "recon"); }, "--device vulkan");
  EXPECT_TRUE(training_unsupported("cpu", TrainOptions{}).empty());
  EXPECT_STREQ(make_rasterizer("cpu")->name(), make_cpu_rasterizer()->name());
}

}  // namespace
}  // namespace sp
