// `sparsplat train-prior` killed and resumed (docs/prior.md "Checkpoints and resume"): SIGKILL
// twice at random moments of training and SIGTERM once, each followed by --resume, ends with
// the same prior.pt bytes as an uninterrupted run; a checkpoint of other options is refused.
#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "support/child_process.h"
#include "support/command_runner.h"
#include "support/test_support.h"

namespace {
namespace fs = std::filesystem;
using sp::test::Child;

// One 32x24 scene of 13 views (3-view reconstructions of 30 iterations make the pairs), a
// tiny UNet, 400 steps of batch 2, a checkpoint every 10: about 3 s on one thread.
std::vector<std::string> prior_args(const std::string& out, bool resume, const std::string& extra = "") {
  std::vector<std::string> a = {"--threads", "1", "-q", "train-prior", std::string(SPARSPLAT_SOURCE_DIR) + "/scenes/demo.json",
                                "--scenes", "1", "--width", "32", "--height", "24", "--views", "13",
                                "--recon-iterations", "30", "--steps", "400", "--batch", "2", "--crop", "16",
                                "--channels", "8", "--levels", "2", "--checkpoint-every", "10", "-o", out};
  if (resume) a.push_back("--resume");
  if (!extra.empty()) a.push_back(extra);
  return a;
}
std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
sp::test::CommandResult run(const std::vector<std::string>& args) {
  return sp::test::run_command(std::string(SPARSPLAT_CLI) + " " + sp::test::joined(args));
}

TEST(TrainPriorResume, KilledTwiceTerminatedOnceAndResumedEndsBitIdentical) {
  const std::string ref = sp::test::temp_dir("prior_resume_ref") + "/out";
  const auto r0 = run(prior_args(ref, false));
  ASSERT_EQ(r0.code, 0) << r0.output;
  const std::string out = sp::test::temp_dir("prior_resume") + "/out", checkpoint = out + "/checkpoint.pt";
  const unsigned seed = std::random_device{}();
  std::mt19937 rng(seed);
  SCOPED_TRACE("random kill delays from seed " + std::to_string(seed));
  int stopped = 0;
  for (int k = 0; k < 3; ++k) {
    std::error_code ec;
    const auto before = fs::last_write_time(checkpoint, ec);
    const bool had = !ec;
    const Child c = sp::test::spawn_program(SPARSPLAT_CLI, prior_args(out, true), out + ".log" + std::to_string(k));
    ASSERT_GT(c.pid, 0);
    int ended = -1;
    const bool ready = sp::test::wait_until(c, [&] {
      std::error_code e;
      const auto t = fs::last_write_time(checkpoint, e);
      return !e && (!had || t != before);
    }, &ended);
    if (!ready) {
      std::printf("stop %d: the run ended first (exit %d)\n", k + 1, ended);
      EXPECT_EQ(ended, 0) << read_text(c.log);
      continue;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(0, 400000)(rng)));
    const int sig = k < 2 ? SIGKILL : SIGTERM;
    kill(c.pid, sig);
    const int code = sp::test::wait_child(c);
    stopped += code == 128 + sig;
    std::printf("stop %d (%s): exit %d\n", k + 1, sig == SIGKILL ? "SIGKILL" : "SIGTERM", code);
    if (sig == SIGTERM && code == 128 + SIGTERM) {
      const std::string log = read_text(c.log);
      EXPECT_NE(log.find("interrupted by SIGTERM at step "), std::string::npos) << log;
      EXPECT_NE(log.find("of 400: checkpoint " + checkpoint + " (continue with --resume)"), std::string::npos) << log;
    }
  }
  EXPECT_GE(stopped, 2) << "most stops fall inside the 400 steps";
  // Another learning rate: the checkpoint is not this run's.
  const auto other = run(prior_args(out, true, "--lr=0.001"));
  EXPECT_EQ(other.code, 2) << other.output;
  EXPECT_NE(other.output.find("checkpoint of another run"), std::string::npos) << other.output;
  const auto r = run(prior_args(out, true));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(read_text(out + "/prior.pt"), read_text(ref + "/prior.pt"));
  for (const auto& e : fs::recursive_directory_iterator(out))
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
}

}  // namespace
