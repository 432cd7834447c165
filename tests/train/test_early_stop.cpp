// Early stop (engine/train/early_stop.h, docs/training.md "Early stop"): windows of a falling
// loss never stop the run, a flat loss stops it after `patience` windows; the state survives
// a checkpoint mid-window; a trainer with it on stops before its iterations and a run
// resumed from any checkpoint stops at the same iteration with the same model.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/core/rng.h"
#include "engine/train/early_stop.h"
#include "engine/train/presets.h"
#include "engine/train/trainer.h"
#include "support/synthetic_scene.h"
#include "support/test_support.h"

namespace sp {
namespace {

EarlyStopOptions on(long window = 10, float tolerance = 0.01f, int patience = 2) {
  return {true, window, tolerance, patience};
}

TEST(EarlyStop, FallingLossRunsOnAndAFlatOneStopsAfterThePatience) {
  EarlyStop falling(on());
  for (long it = 1; it <= 1000; ++it) EXPECT_FALSE(falling.add(it, 100, 1.0 / double(it)));
  EarlyStop flat(on());
  long stopped = -1;
  for (long it = 1; it <= 1000 && stopped < 0; ++it)
    if (flat.add(it, 100, 0.25)) stopped = it;
  // Windows 101-110 (the first, the reference), 111-120 and 121-130 flat: stop at 130.
  EXPECT_EQ(stopped, 130);
  EXPECT_EQ(flat.converged_at(), 130);
  EXPECT_DOUBLE_EQ(flat.best(), 0.25);
  // Off: never.
  EarlyStop off;
  for (long it = 1; it <= 500; ++it) EXPECT_FALSE(off.add(it, 0, 0.25));
}

TEST(EarlyStop, NoiseAroundAPlateauStopsAndAGainResetsThePatience) {
  Rng rng(2);
  EarlyStop e(on(20, 0.01f, 3));
  long stopped = -1;
  for (long it = 1; it <= 2000 && stopped < 0; ++it) {
    // Falling 5% per window until 400, then flat with 10% noise per step.
    const double level = it < 400 ? std::pow(0.95, double(it) / 20.0) : std::pow(0.95, 20.0);
    if (e.add(it, 0, level * (1.0 + 0.1 * (rng.uniform() - 0.5)))) stopped = it;
  }
  EXPECT_GE(stopped, 400 + 3 * 20);
  EXPECT_LE(stopped, 400 + 8 * 20) << "the plateau is found within a few windows";
  // A clear gain between flat windows starts the count again.
  EarlyStop g(on(10, 0.01f, 2));
  const double losses[] = {1.0, 1.0, 0.9, 0.9, 0.9};  // window means
  long at = -1;
  for (int w = 0; w < 5 && at < 0; ++w)
    for (int k = 1; k <= 10; ++k)
      if (g.add(w * 10 + k, 0, losses[w])) at = w * 10 + k;
  EXPECT_EQ(at, 50) << "window 2 improved by 10%: windows 3 and 4 are the two flat ones";
}

TEST(EarlyStop, StateRoundTripMidWindowContinuesTheSameWay) {
  Rng rng(4);
  std::vector<double> losses(600);
  for (size_t i = 0; i < losses.size(); ++i) losses[i] = 0.3 + 0.05 * rng.uniform();
  EarlyStop whole(on(25));
  long a = -1;
  for (long it = 1; it <= 600 && a < 0; ++it)
    if (whole.add(it, 50, losses[size_t(it - 1)])) a = it;
  ASSERT_GT(a, 0);
  for (long cut : {7L, 60L, 88L}) {
    EarlyStop first(on(25));
    for (long it = 1; it <= cut; ++it) first.add(it, 50, losses[size_t(it - 1)]);
    EarlyStop second(on(25));
    second.restore(first.state());
    long b = -1;
    for (long it = cut + 1; it <= 600 && b < 0; ++it)
      if (second.add(it, 50, losses[size_t(it - 1)])) b = it;
    EXPECT_EQ(b, a) << "cut at " << cut;
  }
}

// The reliability scene: 8 views on a ring, 4 train views; the preset off, a long run.
struct LongRun {
  Dataset data;
  TrainOptions options;
};
const LongRun& run_setup() {
  static const LongRun r = [] {
    const std::string d = test::temp_dir("early-stop-scene");
    test::write_synthetic_colmap_scene(d, test::small_ring_scene());
    DatasetOptions dopt;
    dopt.train_ids = {0, 2, 4, 6};
    dopt.test_ids = {1, 5};
    LongRun run{Dataset::load(d, dopt), {}};
    run.options.iterations = 3000;
    run.options.sh_degree = 1;
    run.options.seed = 5;
    run.options.densify_until = 100;
    run.options.densify_interval = 25;
    run.options.densify_from = 25;
    run.options.early_stop = on(25, 0.03f, 2);
    return run;
  }();
  return r;
}
GaussianModel start(const Dataset& data) { return test::random_start(data, 300, 1, 11); }

TEST(EarlyStop, TrainerStopsEarlyAndAResumedRunStopsAtTheSameIteration) {
  const LongRun& r = run_setup();
  auto rasterizer = make_cpu_rasterizer();
  Trainer straight(r.data, start(r.data), r.options, *rasterizer);
  straight.run();
  const long at = straight.converged_at();
  std::printf("[early stop] stopped at iteration %ld of %ld\n", at, r.options.iterations);
  ASSERT_GT(at, 100 + 2 * 25) << "not before densification has ended and two windows after the first";
  EXPECT_LT(at, r.options.iterations);
  EXPECT_EQ(straight.iteration(), at);
  const std::string dir = test::temp_dir("early-stop-resume");
  // Mid-window, on a window's end, and after the stop.
  for (long stop : {130L, 150L, at}) {
    Trainer first(r.data, start(r.data), r.options, *rasterizer);
    while (first.iteration() < stop) first.step();
    first.save_checkpoint(dir + "/c.bin");
    Trainer resumed(r.data, start(r.data), r.options, *rasterizer);
    resumed.load_checkpoint(dir + "/c.bin");
    resumed.run();
    EXPECT_EQ(resumed.converged_at(), at) << "stopped at " << stop;
    EXPECT_EQ(resumed.model().means, straight.model().means) << "stopped at " << stop;
    EXPECT_EQ(resumed.model().opacities, straight.model().opacities) << "stopped at " << stop;
  }
}

}  // namespace
}  // namespace sp
