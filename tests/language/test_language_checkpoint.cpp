// The language trainer's checkpoint (engine/language/language_checkpoint.h): a run stopped at
// any iteration, written to a file and restored into a fresh trainer, ends bit-identical to
// an uninterrupted one; train_language_stage resumes from its checkpoint file and refuses
// another run's; the decoder rejects damaged files and accepts the intact one.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "engine/core/atomic_file.h"
#include "engine/core/error.h"
#include "engine/core/parallel.h"
#include "engine/core/rng.h"
#include "engine/core/stop_signal.h"
#include "engine/io/gaussian_ply.h"
#include "engine/language/language_checkpoint.h"
#include "engine/language/language_pipeline.h"
#include "engine/render/tile_rasterizer_cpu.h"
#include "language/language_scene.h"
#include "support/test_support.h"

namespace sp {
namespace {
namespace fs = std::filesystem;

struct Fixture {
  test::LanguageScene scene = test::make_language_scene(6, 40, 30, 64);
  std::string dir = test::temp_dir("lang_ckpt") + "/language_features";
  std::vector<Camera> cameras;
  LanguageTrainOptions options;
  Fixture() {
    for (int v = 0; v < 6; ++v) {
      test::write_language_inputs(scene, v, dir, 1);
      cameras.push_back(scene.cameras[size_t(v)]);
    }
    options.codes = 8;
    options.iterations = 23;  // more than three epochs of the 6 views
    options.lr_logits = 0.02f;
  }
  std::vector<LanguageView> views() const { return load_language_views(cameras, dir); }
};

std::vector<uint32_t> bits(const std::vector<float>& v) {
  std::vector<uint32_t> b(v.size());
  if (!v.empty()) std::memcpy(b.data(), v.data(), v.size() * 4);
  return b;
}

TEST(LanguageCheckpoint, StopAnywhereWriteRestoreEndsBitIdentical) {
  const Fixture f;
  auto rast = make_cpu_rasterizer();
  const auto views = f.views();
  LanguageTrainer whole(f.scene.model, views, initialize_language_field(f.scene.model.size(), views, f.options),
                        f.options, *rast);
  whole.run();
  const std::string path = test::temp_dir("lang_ckpt_file") + "/state.bin";
  // Mid-epoch (7, 11), at an epoch's end (12) and before the first step (0).
  for (long stop : {7L, 11L, 12L, 0L}) {
    SCOPED_TRACE("stopped at " + std::to_string(stop));
    LanguageTrainer first(f.scene.model, views, initialize_language_field(f.scene.model.size(), views, f.options),
                          f.options, *rast);
    while (first.iteration() < stop) first.step();
    LanguageCheckpoint c = first.checkpoint();
    c.fingerprint = language_fingerprint(f.scene.model, views, f.options);
    write_language_checkpoint(path, c);
    LanguageCheckpoint back = read_language_checkpoint(path);
    Fingerprint written = c.fingerprint, read = back.fingerprint;
    std::sort(written.begin(), written.end());
    std::sort(read.begin(), read.end());
    EXPECT_EQ(read, written);
    // The fresh trainer starts from another field: everything must come from the file.
    LanguageTrainOptions other = f.options;
    other.seed = 99;
    LanguageTrainer second(f.scene.model, views, initialize_language_field(f.scene.model.size(), views, other),
                           f.options, *rast);
    second.restore(std::move(back), path);
    EXPECT_EQ(second.iteration(), stop);
    second.run();
    EXPECT_EQ(bits(second.field().logits), bits(whole.field().logits));
    EXPECT_EQ(bits(second.field().dictionary), bits(whole.field().dictionary));
    EXPECT_EQ(second.loss_ema(), whole.loss_ema());
  }
}

TEST(LanguageCheckpoint, StageResumesFromItsFileAndRefusesAnotherRuns) {
  const Fixture f;
  const int threads = thread_count();
  set_thread_count(1);
  GaussianModel plain = f.scene.model;
  const LanguageStageResult whole = train_language_stage(plain, f.cameras, f.dir, f.options);

  // A stop request at iteration 9 (as SIGTERM gives): checkpoint, Interrupted.
  const std::string path = test::temp_dir("lang_ckpt_stage") + "/language.bin";
  LanguageCheckpointing ck{path, 5, ""};
  GaussianModel m1 = f.scene.model;
  try {
    train_language_stage(m1, f.cameras, f.dir, f.options, [](long it, float) { if (it == 9) request_stop(15); }, ck);
    ADD_FAILURE() << "the stop request was not seen";
  } catch (const Interrupted& e) {
    EXPECT_NE(std::string(e.what()).find("interrupted by SIGTERM at language iteration 9 of 23: checkpoint " + path),
              std::string::npos)
        << e.what();
  }
  clear_stop_request();
  ASSERT_TRUE(fs::is_regular_file(path));
  EXPECT_EQ(read_language_checkpoint(path).iteration, 9);

  // Another seed or iteration count with --resume auto: refused before any work.
  LanguageTrainOptions other_seed = f.options, longer = f.options;
  other_seed.seed = 4;
  longer.iterations = 30;
  GaussianModel m = f.scene.model;
  test::expect_bad_input([&] { train_language_stage(m, f.cameras, f.dir, other_seed, {}, {path, 5, "auto"}); },
                         "checkpoint of another run: its seed is '0', this run's is '4'");
  test::expect_bad_input([&] { train_language_stage(m, f.cameras, f.dir, longer, {}, {path, 5, "auto"}); },
                         "checkpoint of a 23-iteration run, this one asks for 30");
  // Another frozen model: refused too.
  GaussianModel moved = f.scene.model;
  moved.means[0] += 1e-3f;
  test::expect_bad_input([&] { train_language_stage(moved, f.cameras, f.dir, f.options, {}, {path, 5, "auto"}); },
                         "its model is");

  GaussianModel m2 = f.scene.model;
  const LanguageStageResult resumed = train_language_stage(m2, f.cameras, f.dir, f.options, {}, {path, 5, "auto"});
  EXPECT_EQ(resumed.resumed_from, 9);
  EXPECT_EQ(bits(resumed.field.logits), bits(whole.field.logits));
  EXPECT_EQ(bits(resumed.field.dictionary), bits(whole.field.dictionary));
  EXPECT_EQ(resumed.loss, whole.loss);
  EXPECT_EQ(bits(m2.extras), bits(plain.extras));
  set_thread_count(threads);
}

TEST(LanguageCheckpoint, DamagedFilesAreRejectedAndTheIntactOneAccepted) {
  const Fixture f;
  auto rast = make_cpu_rasterizer();
  const auto views = f.views();
  LanguageTrainer t(f.scene.model, views, initialize_language_field(f.scene.model.size(), views, f.options), f.options,
                    *rast);
  for (int i = 0; i < 4; ++i) t.step();
  const std::string path = test::temp_dir("lang_ckpt_mut") + "/state.bin";
  write_language_checkpoint(path, t.checkpoint());
  const std::string good = read_file(path);
  EXPECT_NO_THROW(decode_language_checkpoint(good, "state.bin"));
  // Truncations anywhere, and single bytes changed in the header (the arrays' bytes are
  // data: a changed float is another valid state unless it is not finite).
  Rng rng(3);
  int rejected = 0, accepted = 0, trials = 0;
  for (int k = 0; k < 400; ++k, ++trials) {
    std::string b = good;
    if (k % 2 == 0) {
      b.resize(size_t(rng.uniform() * double(good.size() - 1)));
    } else {
      const size_t at = size_t(rng.uniform() * 400.0);
      b[at] = char(b[at] ^ (1 + int(rng.uniform() * 254)));
    }
    try {
      decode_language_checkpoint(b, "state.bin");
      ++accepted;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::BadInput) << e.what();
      ++rejected;
    }
  }
  std::printf("[language checkpoint] %d mutated files: %d rejected, %d accepted\n", trials, rejected, accepted);
  EXPECT_GE(rejected, trials / 2) << "every truncation must be refused";
  EXPECT_GT(accepted, 0) << "changed values that stay valid (an iteration, a float) are another state, not damage";
  // A non-finite value in the arrays is refused.
  LanguageCheckpoint c = t.checkpoint();
  c.m_dict[3] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(write_language_checkpoint(path, c), Error);
}

}  // namespace
}  // namespace sp
