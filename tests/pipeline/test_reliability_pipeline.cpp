// run_recon under interruption (engine/pipeline/recon.h): a stop request between
// iterations writes checkpoints/last.bin and ends with Interrupted; --resume auto continues
// to the same model bytes and scores as an uninterrupted run; an output folder in use is
// refused; poison values roll back, and repeated poison fails with no model written.
#include <gtest/gtest.h>

#include <unistd.h>

#include <csignal>
#include <filesystem>

#include "engine/core/atomic_file.h"
#include "engine/core/error.h"
#include "engine/core/output_lock.h"
#include "engine/core/stop_signal.h"
#include "engine/pipeline/recon.h"
#include "support/synthetic_scene.h"
#include "support/test_support.h"

namespace sp {
namespace {
namespace fs = std::filesystem;

// Stops the run (as SIGTERM would) once training reports `stop_at`; keeps the log.
struct StoppingObserver final : ReconObserver {
  long stop_at = -1;
  std::vector<std::string> logs;
  void progress(ReconStage stage, long done, const std::string&) override {
    if (stage == ReconStage::Train && done == stop_at) request_stop(SIGTERM);
  }
  void log(LogSeverity, const std::string& m) override { logs.push_back(m); }
  bool logged(const std::string& needle) const {
    for (const std::string& l : logs)
      if (l.find(needle) != std::string::npos) return true;
    return false;
  }
};

const Dataset& scene() {
  static const Dataset d = [] {
    const std::string dir = test::temp_dir("pipe-reliability");
    const test::SyntheticSceneOptions o = test::small_ring_scene();
    test::write_synthetic_colmap_scene(dir, o);
    DatasetOptions d;
    d.train_ids = {0, 2, 4, 6};
    d.test_ids = {1, 5};
    return Dataset::load(dir, d);
  }();
  return d;
}

// 60 iterations: one densification round at 25; with the preset (4 train views) co-training,
// pseudo views from 12, the binocular term from 30, opacity decay.
ReconConfig config(const std::string& out, bool preset) {
  ReconConfig c;
  c.output = out;
  c.iterations = 60;
  c.seed = 2;
  c.device = "cpu";
  c.init.method = "random";
  c.init.gaussians.random_points = 300;
  c.sh_degree = 1;
  c.regularizers.preset = preset ? "auto" : "off";
  return c;
}

void expect_same_run(const ReconResult& a, const ReconResult& b, const std::string& out_a, const std::string& out_b,
                     const std::string& what) {
  EXPECT_EQ(read_file(out_a + "/point_cloud.ply"), read_file(out_b + "/point_cloud.ply")) << what;
  EXPECT_EQ(a.model.means, b.model.means) << what;
  EXPECT_EQ(a.scores.mean_psnr, b.scores.mean_psnr) << what;
  EXPECT_EQ(a.scores.mean_ssim, b.scores.mean_ssim) << what;
  ASSERT_EQ(a.scores.views.size(), b.scores.views.size());
  for (size_t i = 0; i < a.scores.views.size(); ++i) EXPECT_EQ(a.scores.views[i].psnr, b.scores.views[i].psnr) << what;
}

void stop_and_resume(bool preset, const std::vector<long>& stops) {
  const std::string root = test::temp_dir(preset ? "pipe-stop-preset" : "pipe-stop-plain");
  StoppingObserver quiet;
  const ReconResult straight = run_recon(scene(), config(root + "/straight", preset), quiet);
  for (long stop : stops) {
    const std::string out = root + "/stop_" + std::to_string(stop);
    StoppingObserver obs;
    obs.stop_at = stop;
    try {
      run_recon(scene(), config(out, preset), obs);
      ADD_FAILURE() << "the stop request was ignored";
    } catch (const Interrupted& e) {
      EXPECT_EQ(e.signal(), SIGTERM);
      EXPECT_NE(std::string(e.what()).find("interrupted by SIGTERM at iteration " + std::to_string(stop) + " of 60"),
                std::string::npos)
          << e.what();
      EXPECT_NE(std::string(e.what()).find("--resume auto"), std::string::npos) << e.what();
    }
    clear_stop_request();
    EXPECT_TRUE(fs::is_regular_file(out + "/checkpoints/last.bin"));
    EXPECT_FALSE(fs::exists(out + "/point_cloud.ply"));
    ReconConfig again = config(out, preset);
    again.resume = "auto";
    StoppingObserver obs2;
    const ReconResult resumed = run_recon(scene(), again, obs2);
    EXPECT_EQ(resumed.iterations_this_run, 60 - stop);
    EXPECT_TRUE(obs2.logged("resumed from " + out + "/checkpoints/last.bin at iteration " + std::to_string(stop)));
    expect_same_run(straight, resumed, root + "/straight", out, "stopped at " + std::to_string(stop));
  }
}

TEST(ReconReliability, StopAndResumeAutoIsBitIdenticalWithThePreset) { stop_and_resume(true, {1, 25, 26, 41}); }
TEST(ReconReliability, StopAndResumeAutoIsBitIdenticalWithoutPreset) { stop_and_resume(false, {25, 26}); }

TEST(ReconReliability, ResumeAutoStartsFreshOrRefusesAnotherRunsCheckpoint) {
  const std::string out = test::temp_dir("pipe-auto") + "/out";
  ReconConfig c = config(out, true);
  c.resume = "auto";
  StoppingObserver obs;
  const ReconResult fresh = run_recon(scene(), c, obs);
  EXPECT_EQ(fresh.iterations_this_run, 60);
  EXPECT_TRUE(obs.logged("starting fresh"));
  // A finished run resumed: nothing to train, the outputs again, the same ones.
  const std::string ply = read_file(out + "/point_cloud.ply");
  StoppingObserver obs2;
  EXPECT_EQ(run_recon(scene(), c, obs2).iterations_this_run, 0);
  EXPECT_EQ(read_file(out + "/point_cloud.ply"), ply);
  // Another target or other options: refused before anything is written.
  c.iterations = 80;
  test::expect_bad_input([&] { run_recon(scene(), c, obs2); }, "--resume auto continues only the same run");
  c.iterations = 60;
  c.seed = 3;
  test::expect_bad_input([&] { run_recon(scene(), c, obs2); }, "its seed is '2', this run's is '3'");
  EXPECT_EQ(read_file(out + "/point_cloud.ply"), ply);
}

TEST(ReconReliability, AnOutputFolderInUseIsRefused) {
  const std::string out = test::temp_dir("pipe-lock") + "/out";
  StoppingObserver obs;
  {
    OutputLock held(out);
    test::expect_bad_input([&] { run_recon(scene(), config(out, false), obs); },
                           out + " is in use by another sparsplat run (pid " + std::to_string(::getpid()) + ")");
  }
  // Released with its holder.
  EXPECT_NO_THROW(run_recon(scene(), config(out, false), obs));
  // A stale temporary of a killed run is cleared by the next run.
  write_text_atomic(out + "/checkpoints/x", "x");
  fs::copy_file(out + "/checkpoints/x", out + "/checkpoints/last.bin.tmp-99999");
  fs::copy_file(out + "/checkpoints/x", out + "/test/gt/view_001.png.tmp-99999");
  fs::copy_file(out + "/checkpoints/x", out + "/notes.tmp-mine");  // not ours: kept
  ReconConfig c = config(out, false);
  c.resume = "auto";
  EXPECT_NO_THROW(run_recon(scene(), c, obs));
  EXPECT_FALSE(fs::exists(out + "/checkpoints/last.bin.tmp-99999"));
  EXPECT_FALSE(fs::exists(out + "/test/gt/view_001.png.tmp-99999"));
  EXPECT_TRUE(fs::exists(out + "/notes.tmp-mine"));
}

TEST(ReconReliability, PoisonRollsBackOnceOrFailsWithNoModelWritten) {
  const std::string root = test::temp_dir("pipe-poison");
  ReconConfig once = config(root + "/once", true);
  once.adjust_training = [](TrainOptions& o) {
    o.rollback_interval = 10;
    o.test_poison_iteration = 33;
  };
  StoppingObserver obs;
  const ReconResult r = run_recon(scene(), once, obs);
  EXPECT_EQ(r.iterations, 60);
  EXPECT_NO_THROW(r.model.validate("model"));
  EXPECT_TRUE(obs.logged("non-finite gradient of opacities at iteration 33: rolled back to iteration 30"));
  EXPECT_TRUE(fs::is_regular_file(root + "/once/point_cloud.ply"));

  ReconConfig always = once;
  always.output = root + "/always";
  always.adjust_training = [](TrainOptions& o) {
    o.rollback_interval = 10;
    o.test_poison_iteration = 33;
    o.test_poison_times = 1000;
  };
  StoppingObserver obs2;
  try {
    run_recon(scene(), always, obs2);
    ADD_FAILURE() << "repeated poison was not reported";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Internal);
    EXPECT_NE(std::string(e.what()).find("training diverged"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(root + "/always/point_cloud.ply"));
  EXPECT_FALSE(fs::exists(root + "/always/metrics.json"));
}

}  // namespace
}  // namespace sp
