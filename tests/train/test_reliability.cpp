// Crash-consistent training (docs/training.md "Checkpoints and resume", "NaN rollback"): a
// run stopped at any iteration and resumed from its checkpoint ends bit-identical to an
// uninterrupted one, with the sparse-view preset (co-training, binocular, pseudo views,
// opacity decay) on and off; checkpoints of another run are refused; a poison value rolls
// the run back with a lower learning rate, and repeated poison fails clearly.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <sstream>

#include "engine/core/atomic_file.h"
#include "engine/core/error.h"
#include "engine/core/log.h"
#include "engine/io/gaussian_ply.h"
#include "engine/scene/initialization.h"
#include "engine/train/finite_check.h"
#include "engine/train/presets.h"
#include "engine/train/trainer.h"
#include "support/fuzz.h"
#include "support/synthetic_scene.h"
#include "support/test_support.h"

namespace sp {
namespace {

// 8 views on a ring, 4 of them train views: the sparse-view preset applies (<= 9 views).
Dataset load_scene(std::vector<int> train_ids) {
  static const std::string dir = [] {
    const std::string d = test::temp_dir("reliability-scene");
    const test::SyntheticSceneOptions o = test::small_ring_scene();
    test::write_synthetic_colmap_scene(d, o);
    return d;
  }();
  DatasetOptions d;
  d.train_ids = std::move(train_ids);
  d.test_ids = {1, 5};
  return Dataset::load(dir, d);
}
const Dataset& scene() {
  static const Dataset d = load_scene({0, 2, 4, 6});
  return d;
}

GaussianModel initial_model(const Dataset& data) { return test::random_start(data, 400, 1, 11); }

// 40 iterations with densification rounds at 6, 12 and 18 (co-pruning at 12), pseudo views
// from 8, the binocular term from 20, opacity decay, depth smoothness and the angular scale
// cap throughout (preset on, as for a rig around an object).
TrainOptions options(bool preset) {
  TrainOptions o;
  o.iterations = 40;
  o.sh_degree = 1;
  o.sh_increase_interval = 15;
  o.seed = 5;
  o.densify_interval = 6;
  RegularizerConfig r;
  r.preset = preset ? "auto" : "off";
  apply_regularizers(r, 4, CaptureTraits{false, true}, o);
  o.sparse.co_prune_rounds = 2;
  return o;
}

void expect_same(const GaussianModel& a, const GaussianModel& b, const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  EXPECT_EQ(a.means, b.means) << what;
  EXPECT_EQ(a.log_scales, b.log_scales) << what;
  EXPECT_EQ(a.rotations, b.rotations) << what;
  EXPECT_EQ(a.opacities, b.opacities) << what;
  EXPECT_EQ(a.sh, b.sh) << what;
}

void resume_is_bit_identical(bool preset) {
  const Dataset& data = scene();
  const TrainOptions o = options(preset);
  auto rasterizer = make_cpu_rasterizer();
  Trainer straight(data, initial_model(data), o, *rasterizer);
  size_t densified = 0;
  straight.run([&](const StepStats& s) { densified += s.densified.cloned + s.densified.split + s.densified.pruned; });
  ASSERT_EQ(straight.second_model() != nullptr, preset);
  EXPECT_GT(densified, 0u);
  const std::string dir = test::temp_dir(preset ? "resume-preset" : "resume-plain");
  // Before the first round, on a round (6, 12: co-pruning), right after one, after the
  // binocular term starts, and at the very end.
  for (long stop : {3L, 6L, 7L, 12L, 13L, 27L, 40L}) {
    Trainer first(data, initial_model(data), o, *rasterizer);
    while (first.iteration() < stop) first.step();
    const std::string ckpt = dir + "/stop_" + std::to_string(stop) + ".bin";
    first.save_checkpoint(ckpt);
    Trainer resumed(data, initial_model(data), o, *rasterizer);
    resumed.load_checkpoint(ckpt);
    ASSERT_EQ(resumed.iteration(), stop);
    resumed.run();
    const std::string what = "stopped at " + std::to_string(stop);
    expect_same(straight.model(), resumed.model(), what);
    if (preset) expect_same(*straight.second_model(), *resumed.second_model(), what + ", second field");
    EXPECT_EQ(straight.active_sh_degree(), resumed.active_sh_degree()) << what;
  }
}

TEST(Reliability, ResumeIsBitIdenticalWithTheSparseViewPreset) { resume_is_bit_identical(true); }
TEST(Reliability, ResumeIsBitIdenticalWithoutPreset) { resume_is_bit_identical(false); }

TEST(Reliability, CheckpointsOfAnotherRunAreRefused) {
  const Dataset& data = scene();
  auto rasterizer = make_cpu_rasterizer();
  const TrainOptions o = options(true);
  Trainer t(data, initial_model(data), o, *rasterizer);
  t.step();
  const std::string ckpt = test::temp_dir("ckpt-fingerprint") + "/a.bin";
  t.save_checkpoint(ckpt);

  TrainOptions seed = o;
  seed.seed = 6;
  Trainer other_seed(data, initial_model(data), seed, *rasterizer);
  test::expect_bad_input([&] { other_seed.load_checkpoint(ckpt); }, "its seed is '5', this run's is '6'");

  const Dataset other_views = load_scene({0, 3, 4, 6});
  Trainer other_data(other_views, initial_model(other_views), o, *rasterizer);
  test::expect_bad_input([&] { other_data.load_checkpoint(ckpt); }, "train_ids");

  TrainOptions regs = o;
  regs.sparse.binocular = 0;
  Trainer other_regs(data, initial_model(data), regs, *rasterizer);
  test::expect_bad_input([&] { other_regs.load_checkpoint(ckpt); }, "regularizers");

  // A longer run may continue it (extending a run), with a warning; --resume auto refuses.
  TrainOptions longer = o;
  longer.iterations = 80;
  Trainer extended(data, initial_model(data), longer, *rasterizer);
  EXPECT_NO_THROW(extended.load_checkpoint(ckpt));
  EXPECT_EQ(extended.iteration(), 1);
  test::expect_bad_input(
      [&] {
        check_fingerprint(ckpt, read_checkpoint_fingerprint(ckpt), checkpoint_fingerprint(data, longer),
                          TargetChange::Refuse);
      },
      "checkpoint of a 40-iteration run, this one asks for 80");
  EXPECT_EQ(read_checkpoint_fingerprint(ckpt), t.fingerprint());
}

// The checkpoint file's decoder on its own (engine/train/checkpoint_file.h; the libFuzzer
// target fuzz/targets/checkpoint.cpp runs it much longer): a real co-trained checkpoint
// decodes; every truncation and most random edits are BadInput, never a crash.
TEST(Reliability, CheckpointDecoderRejectsCorruptFilesAndAcceptsTheRealOne) {
  const Dataset& data = scene();
  auto rasterizer = make_cpu_rasterizer();
  Trainer t(data, initial_model(data), options(true), *rasterizer);
  for (int i = 0; i < 3; ++i) t.step();
  const std::string ckpt = test::temp_dir("ckpt-decode") + "/last.bin";
  t.save_checkpoint(ckpt);
  const std::string bytes = read_file(ckpt);
  const Checkpoint c = decode_checkpoint(bytes, ckpt);
  ASSERT_EQ(c.fields.size(), 2u);
  EXPECT_EQ(c.fields[0].model.size(), t.model().size());
  EXPECT_EQ(c.iteration, 3);
  const auto s = test::fuzz_parser(bytes, [&](const std::string& b) { decode_checkpoint(b, ckpt); },
                                   {.mutations = 300, .seed = 31, .max_prefixes = 150});
  std::printf("[fuzz] checkpoint (%zu bytes): %zu calls, %zu accepted, %zu rejected (prefixes %.3f, mutations %.3f)\n",
              bytes.size(), s.calls, s.accepted, s.rejected, s.prefix_rejected_share(), s.mutation_rejected_share());
  EXPECT_EQ(s.prefix_rejected_share(), 1.0);  // every record is needed: no cut is a checkpoint
  EXPECT_GT(s.mutation_rejected_share(), 0.7);  // measured 0.820
  EXPECT_GT(s.accepted, 0u);                  // edits inside the float arrays are valid files
}

// A tiny checkpoint claiming 10^12 Gaussians is refused from its size before any allocation.
TEST(Reliability, CheckpointClaimingAHugeCountIsRefused) {
  std::ostringstream out;
  write_checkpoint_magic(out);
  const std::string meta = "views=4\nsh_degree=0\nextra_channels=0\ngaussians=1000000000000\n";
  write_checkpoint_record(out, "meta", meta.data(), meta.size());
  test::expect_bad_input([&] { decode_checkpoint(out.str(), "last.bin"); },
                         "last.bin: checkpoint field 'gaussians' is 1000000000000, more than its 85 bytes can hold");
}

struct LogCapture {
  std::vector<std::string> lines;
  ScopedLogSink sink{[this](LogSeverity, const std::string& m) { lines.push_back(m); }};
  size_t count(const std::string& needle) const {
    size_t n = 0;
    for (const std::string& l : lines) n += l.find(needle) != std::string::npos;
    return n;
  }
};

TEST(Reliability, OnePoisonedGradientRollsBackAndTheRunFinishes) {
  const Dataset& data = scene();
  auto rasterizer = make_cpu_rasterizer();
  for (const char* group : {"opacities", "means"}) {
    TrainOptions o = options(true);
    o.rollback_interval = 10;
    o.test_poison_iteration = 23;
    o.test_poison_group = group;
    LogCapture log;
    Trainer t(data, initial_model(data), o, *rasterizer);
    std::vector<long> back_to;
    t.run([&](const StepStats& s) {
      if (s.rolled_back) back_to.push_back(s.iteration);
    });
    EXPECT_EQ(back_to, std::vector<long>{20}) << group;  // the copy taken at iteration 20
    EXPECT_EQ(t.iteration(), 40);
    EXPECT_NO_THROW(t.model().validate("field 0"));
    EXPECT_NO_THROW(t.second_model()->validate("field 1"));
    const LearningRates& f = t.learning_rate_factors();
    EXPECT_EQ(std::string(group) == "opacities" ? f.opacities : f.means, 0.5f) << group;
    EXPECT_EQ(std::string(group) == "opacities" ? f.means : f.opacities, 1.0f) << group;
    EXPECT_EQ(log.count("rolled back to iteration 20"), 1u) << group;
    EXPECT_EQ(log.count(std::string("non-finite gradient of ") + group + " at iteration 23"), 1u) << group;
    // The factor travels with checkpoints: a resumed run trains as this one would.
    const std::string ckpt = test::temp_dir("ckpt-rollback") + "/c.bin";
    t.save_checkpoint(ckpt);
    Trainer resumed(data, initial_model(data), o, *rasterizer);
    resumed.load_checkpoint(ckpt);
    EXPECT_EQ(resumed.learning_rate_factors().opacities, f.opacities);
    EXPECT_EQ(resumed.learning_rate_factors().means, f.means);
  }
}

TEST(Reliability, RepeatedPoisonFailsClearlyAfterFiveRollbacks) {
  const Dataset& data = scene();
  auto rasterizer = make_cpu_rasterizer();
  TrainOptions o = options(false);
  o.rollback_interval = 10;
  o.test_poison_iteration = 15;
  o.test_poison_times = 1000;
  LogCapture log;
  Trainer t(data, initial_model(data), o, *rasterizer);
  int rollbacks = 0;
  try {
    t.run([&](const StepStats& s) { rollbacks += s.rolled_back; });
    ADD_FAILURE() << "repeated poison was not reported";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Internal);
    EXPECT_NE(std::string(e.what()).find("training diverged: non-finite gradient of opacities at iteration 15 again "
                                         "after 5 rollbacks to iteration 10"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(rollbacks, 5);
  EXPECT_EQ(log.count("rolled back to iteration 10"), 5u);
  EXPECT_FLOAT_EQ(t.learning_rate_factors().opacities, 1.0f / 32);
  // Five poisons are survived (the limit is on rollbacks to the same copy).
  o.test_poison_times = 5;
  Trainer survives(data, initial_model(data), o, *rasterizer);
  EXPECT_NO_THROW(survives.run());
  EXPECT_EQ(survives.iteration(), 40);
}

TEST(Reliability, PoisonNeverReachesAFile) {
  const Dataset& data = scene();
  auto rasterizer = make_cpu_rasterizer();
  Trainer t(data, initial_model(data), options(false), *rasterizer);
  t.step();
  GaussianModel bad = t.model();
  bad.opacities[3] = std::numeric_limits<float>::infinity();
  const std::string dir = test::temp_dir("poison-file");
  try {
    write_gaussian_ply(dir + "/bad.ply", bad);
    ADD_FAILURE() << "a PLY with an infinity was written";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Internal) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(dir + "/bad.ply"));
  EXPECT_EQ(non_finite_group(bad), std::string("opacities"));
  EXPECT_EQ(non_finite_group(t.model()), nullptr);
}

}  // namespace
}  // namespace sp
