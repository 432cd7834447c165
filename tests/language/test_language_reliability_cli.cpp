// `sparsplat language` killed and resumed (docs/language.md "Checkpoints and resume"):
// SIGKILL at three random points (twice during training, once while the outputs are
// written), each rerun with --resume auto, ends with the same PLY and dictionary bytes as
// an uninterrupted run; SIGTERM checkpoints and exits 143; a second run into the folder in
// use exits 2; a checkpoint of other options is refused; recon's language stage resumes too.
#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "engine/io/gaussian_ply.h"
#include "language/language_scene.h"
#include "support/child_process.h"
#include "support/command_runner.h"
#include "support/test_support.h"

namespace sp {
namespace {
namespace fs = std::filesystem;
using test::Child;

struct Inputs {
  std::string root, data, model;
};
const Inputs& inputs() {
  static const Inputs in = [] {
    Inputs i;
    i.root = test::temp_dir("lang_kill");
    i.data = i.root + "/scene";
    const test::LanguageScene scene = test::make_language_scene(8, 64, 48, 128);
    test::write_language_scene_colmap(scene, i.data);
    for (int v = 0; v < 8; ++v) test::write_language_inputs(scene, v, i.data + "/language_features", 1);
    i.model = i.root + "/model.ply";
    write_gaussian_ply(i.model, scene.model);
    return i;
  }();
  return in;
}

std::vector<std::string> language_args(const std::string& output, const std::string& extra = "") {
  const Inputs& in = inputs();
  std::vector<std::string> a = {"--threads", "1", "-q", "language", in.model, in.data, "--features",
                                in.data + "/language_features", "--iterations", "400", "--codes", "16", "--lr", "0.02",
                                "--checkpoint-every", "20", "-o", output};
  if (!extra.empty()) a.push_back(extra);
  return a;
}
std::vector<std::string> resumed(std::vector<std::string> a) {
  a.insert(a.end(), {"--resume", "auto"});
  return a;
}
std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
Child spawn(const std::vector<std::string>& args, const std::string& log) {
  return test::spawn_program(SPARSPLAT_CLI, args, log);
}
test::CommandResult run(const std::vector<std::string>& args) {
  return test::run_command(std::string(SPARSPLAT_CLI) + " " + test::joined(args));
}

const std::string& reference() {
  static const std::string out = [] {
    const std::string o = test::temp_dir("lang_kill_ref") + "/lang.ply";
    const auto r = run(language_args(o));
    EXPECT_EQ(r.code, 0) << r.output;
    return o;
  }();
  return out;
}

TEST(LanguageReliabilityCli, KilledThreeTimesAndResumedEndsBitIdentical) {
  const std::string ref = reference();
  ASSERT_TRUE(fs::is_regular_file(ref));
  EXPECT_FALSE(fs::exists(fs::path(ref).parent_path() / "lang.language-checkpoint.bin"))
      << "a finished run removes its checkpoint";
  const std::string dir = test::temp_dir("lang_kill_run"), out = dir + "/lang.ply";
  const std::string checkpoint = dir + "/lang.language-checkpoint.bin";
  const unsigned seed = std::random_device{}();
  std::mt19937 rng(seed);
  SCOPED_TRACE("random kill delays from seed " + std::to_string(seed));
  int killed = 0;
  for (int k = 0; k < 3; ++k) {
    // The first two after a checkpoint of this run (random delays: anywhere in training,
    // in the middle of writing the next checkpoint too); the third while the outputs are written.
    std::error_code ec;
    const auto before = fs::last_write_time(checkpoint, ec);
    const bool had = !ec;
    const Child c = spawn(resumed(language_args(out)), dir + "/log" + std::to_string(k) + ".txt");
    ASSERT_GT(c.pid, 0);
    const auto ready = k < 2 ? std::function<bool()>([&] {
      std::error_code e;
      const auto t = fs::last_write_time(checkpoint, e);
      return !e && (!had || t != before);
    })
                             : std::function<bool()>([&] {
                                 for (const auto& e : fs::directory_iterator(dir))
                                   if (e.path().filename().string().rfind("lang.", 0) == 0 &&
                                       e.path().filename().string().find(".tmp-") != std::string::npos)
                                     return true;  // an output being written
                                 return fs::exists(out);
                               });
    int ended = -1;
    if (test::wait_until(c, ready, &ended)) {
      std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(0, k < 2 ? 60000 : 200)(rng)));
      kill(c.pid, SIGKILL);
      const int code = test::wait_child(c);
      killed += code == 128 + SIGKILL;
      std::printf("kill %d: exit %d, checkpoint %s, lang.ply %s\n", k + 1, code, fs::exists(checkpoint) ? "present" : "absent",
                  fs::exists(out) ? "present" : "absent");
    } else {
      std::printf("kill %d: the run ended first (exit %d)\n", k + 1, ended);
      EXPECT_EQ(ended, 0) << read_text(c.log);
    }
  }
  EXPECT_GE(killed, 2) << "the first two kill points fall inside training";
  const auto r = run(resumed(language_args(out)));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(read_text(out), read_text(ref));
  EXPECT_EQ(read_text(dir + "/lang.language.npy"), read_text(fs::path(ref).replace_extension(".language.npy").string()));
  EXPECT_FALSE(fs::exists(checkpoint));
  for (const auto& e : fs::directory_iterator(dir))
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
}

TEST(LanguageReliabilityCli, SigtermCheckpointsAFolderInUseIsRefusedAndOtherOptionsToo) {
  const std::string ref = reference();
  const std::string dir = test::temp_dir("lang_term"), out = dir + "/lang.ply";
  const std::string checkpoint = dir + "/lang.language-checkpoint.bin";
  const Child c = spawn(language_args(out), dir + "/log.txt");
  ASSERT_GT(c.pid, 0);
  ASSERT_TRUE(test::wait_until(c, [&] { return fs::exists(checkpoint); }));
  // A second run into the same folder while the first holds it.
  const auto second = run(language_args(dir + "/other.ply"));
  EXPECT_EQ(second.code, 2) << second.output;
  EXPECT_NE(second.output.find(dir + " is in use by another sparsplat run (pid " + std::to_string(c.pid) + ")"),
            std::string::npos)
      << second.output;
  kill(c.pid, SIGTERM);
  EXPECT_EQ(test::wait_child(c), 128 + SIGTERM);
  const std::string log = read_text(c.log);
  EXPECT_NE(log.find("interrupted by SIGTERM at language iteration "), std::string::npos) << log;
  EXPECT_NE(log.find("of 400: checkpoint " + checkpoint + " (continue with --resume auto)"), std::string::npos) << log;
  EXPECT_FALSE(fs::exists(out));
  // The same command with another seed: its checkpoint is not this run's.
  const auto other = run(resumed(language_args(out, "--seed=7")));
  EXPECT_EQ(other.code, 2) << other.output;
  EXPECT_NE(other.output.find("checkpoint of another run: its seed is '0', this run's is '7'"), std::string::npos)
      << other.output;
  const auto r = run(resumed(language_args(out)));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(read_text(out), read_text(ref));
  EXPECT_EQ(read_text(dir + "/lang.language.npy"), read_text(fs::path(ref).replace_extension(".language.npy").string()));
}

// recon --language: the language stage checkpoints into OUT/checkpoints/language.bin on
// recon's schedule; SIGTERM during it, then --resume auto, gives the uninterrupted outputs.
TEST(LanguageReliabilityCli, ReconsLanguageStageResumesAfterSigterm) {
  const Inputs& in = inputs();
  const auto args = [&](const std::string& out, bool resume) {
    std::vector<std::string> a = {"--threads", "1", "-q", "recon", in.data, "--train-ids", "0,2,4,6", "--test-ids",
                                  "1,5", "--iterations", "20", "--sh-degree", "0", "--language",
                                  in.data + "/language_features", "--language-iterations", "60",
                                  "--checkpoint-every", "10", "-o", out};
    if (resume) a.insert(a.end(), {"--resume", "auto"});
    return a;
  };
  const std::string ref = test::temp_dir("lang_recon_ref") + "/out";
  const auto r0 = run(args(ref, false));
  ASSERT_EQ(r0.code, 0) << r0.output;
  const std::string out = test::temp_dir("lang_recon") + "/out";
  const Child c = spawn(args(out, false), out + ".log");
  ASSERT_GT(c.pid, 0);
  ASSERT_TRUE(test::wait_until(c, [&] { return fs::exists(out + "/checkpoints/language.bin"); }));
  kill(c.pid, SIGTERM);
  EXPECT_EQ(test::wait_child(c), 128 + SIGTERM);
  const std::string log = read_text(c.log);
  EXPECT_NE(log.find("interrupted by SIGTERM at language iteration "), std::string::npos) << log;
  EXPECT_FALSE(fs::exists(out + "/point_cloud.ply"));
  const auto r = run(args(out, true));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(read_text(out + "/point_cloud.ply"), read_text(ref + "/point_cloud.ply"));
  EXPECT_EQ(read_text(out + "/point_cloud.language.npy"), read_text(ref + "/point_cloud.language.npy"));
}

}  // namespace
}  // namespace sp
