// engine/core: atomic files, the camera convention, the thread count, the random source,
// errors and the log sink.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include <glm/gtc/matrix_transform.hpp>

#include "engine/core/atomic_file.h"
#include "engine/core/camera.h"
#include "engine/core/error.h"
#include "engine/core/log.h"
#include "engine/core/parallel.h"
#include "engine/core/rng.h"
#include "engine/core/stage_clock.h"
#include "support/test_support.h"

namespace sp {
namespace {
namespace fs = std::filesystem;

std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  return names;
}

TEST(AtomicFile, WritesTheWholeTextAndNoTemporary) {
  const std::string dir = test::temp_dir("atomic");
  const std::string path = dir + "/out.txt";
  write_text_atomic(path, std::string("line one\n\0binary", 16));
  EXPECT_EQ(read_file(path), std::string("line one\n\0binary", 16));
  EXPECT_EQ(files_in(dir), std::vector<std::string>{"out.txt"});
}

TEST(AtomicFile, AFailingWriterLeavesTheOldFileAndNoTemporary) {
  const std::string dir = test::temp_dir("atomic-fail");
  const std::string path = dir + "/model.ply";
  write_text_atomic(path, "complete old file");
  EXPECT_THROW(write_file_atomic(path,
                                 [](std::ostream& out) {
                                   out << "half of a new fi";
                                   throw std::runtime_error("killed mid-write");
                                 }),
               std::runtime_error);
  EXPECT_EQ(read_file(path), "complete old file");
  EXPECT_EQ(files_in(dir), std::vector<std::string>{"model.ply"});
}

TEST(AtomicFile, UnwritableFolderAndMissingFilesAreBadInput) {
  test::expect_bad_input([] { write_text_atomic("/nonexistent-folder-sp/x.txt", "x"); }, "/nonexistent-folder-sp/x.txt");
  const std::string dir = test::temp_dir("atomic-read");
  test::expect_bad_input([&] { (void)read_file(dir + "/missing.bin"); }, "no such file");
  test::expect_bad_input([&] { (void)read_file(dir); }, "is a folder");
  if (::geteuid() != 0) {  // root writes anywhere
    fs::create_directories(dir + "/ro");
    ::chmod((dir + "/ro").c_str(), 0500);
    test::expect_bad_input([&] { write_text_atomic(dir + "/ro/x.txt", "x"); }, "cannot open for writing");
    ::chmod((dir + "/ro").c_str(), 0700);
  }
}

TEST(Camera, ResizedScalesIntrinsicsAndKeepsTheFieldOfView) {
  Camera c;
  c.width = 1600;
  c.height = 1200;
  c.fx = 2000;
  c.fy = 1990;
  c.cx = 810;
  c.cy = 590;
  const Camera q = c.resized(400, 300);
  EXPECT_EQ(q.width, 400);
  EXPECT_EQ(q.height, 300);
  EXPECT_FLOAT_EQ(q.fx, 500.0f);
  EXPECT_FLOAT_EQ(q.fy, 497.5f);
  EXPECT_FLOAT_EQ(q.cx, 202.5f);
  EXPECT_FLOAT_EQ(q.cy, 147.5f);
  EXPECT_NEAR(q.fov_x(), c.fov_x(), 1e-6);
  EXPECT_NEAR(q.fov_y(), c.fov_y(), 1e-6);
  EXPECT_NEAR(c.fov_x(), 2 * std::atan(800.0 / 2000.0), 1e-6);
}

TEST(Camera, CentreMapsToTheOriginAndForwardIsPlusZ) {
  Camera c;
  c.R = glm::mat3(glm::rotate(glm::mat4(1.0f), 0.7f, glm::normalize(glm::vec3(0.3f, -1.0f, 0.2f))));
  c.t = glm::vec3(0.5f, -2.0f, 4.0f);
  const glm::vec3 o = c.center();
  const glm::vec3 at = c.to_camera(o);
  EXPECT_NEAR(glm::length(at), 0.0f, 1e-5f);
  // A point one unit along the camera's viewing direction (third row of R) lies at z = +1.
  const glm::vec3 forward(c.R[0][2], c.R[1][2], c.R[2][2]);
  const glm::vec3 p = c.to_camera(o + forward);
  EXPECT_NEAR(p.x, 0.0f, 1e-5f);
  EXPECT_NEAR(p.y, 0.0f, 1e-5f);
  EXPECT_NEAR(p.z, 1.0f, 1e-5f);
}

TEST(StageClock, LapsSumPerPartInTheOrderTheyFirstRan) {
  StageClock clock;
  EXPECT_TRUE(clock.totals().empty());
  clock.lap("a");
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  clock.lap("b");
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  clock.lap("a");
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  clock.stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(30));  // stopped: counted nowhere
  const auto t = clock.totals();
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].first, "a");
  EXPECT_EQ(t[1].first, "b");
  EXPECT_GE(t[0].second, 0.030);
  EXPECT_GE(t[1].second, 0.010);
  EXPECT_LT(t[0].second, t[0].second + t[1].second);
  clock.lap("b");
  clock.stop();
  EXPECT_LT(clock.totals()[1].second, t[1].second + 0.025) << "the pause after stop() is not in b";
}

TEST(Parallel, RunPairRunsBothHalvesOnHalfTheThreadsAndRethrows) {
  const int before = thread_count();
  for (int threads : {1, 2, 5}) {
    set_thread_count(threads);
    int ran[2] = {0, 0}, inner[2] = {0, 0};
    run_pair([&](int i) {
      ++ran[i];
      inner[i] = thread_count();
    });
    EXPECT_EQ(ran[0], 1) << threads << " threads";
    EXPECT_EQ(ran[1], 1) << threads << " threads";
    if (threads == 1) {
      EXPECT_EQ(inner[0] + inner[1], 2);  // one after the other, each with the one thread
    } else {
      EXPECT_EQ(inner[0] + inner[1], threads) << "the halves share the threads";
    }
    EXPECT_EQ(thread_count(), threads) << "the caller's thread count is left as it was";
    // A failing half: its exception arrives once both ran.
    bool other_ran = false;
    try {
      run_pair([&](int i) {
        if (i == 1) throw_bad_input("half", "failed");
        other_ran = true;
      });
      ADD_FAILURE() << "no exception";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("failed"), std::string::npos);
    }
    EXPECT_TRUE(other_ran);
  }
  set_thread_count(before);
}

TEST(Parallel, ThreadCountIsWhatWasSetAndZeroMeansAllCores) {
  const int before = thread_count();
  set_thread_count(3);
  EXPECT_EQ(thread_count(), 3);
  set_thread_count(0);
  EXPECT_EQ(thread_count(), int(std::max(1u, std::thread::hardware_concurrency())));
  set_thread_count(-5);
  EXPECT_GE(thread_count(), 1);
  set_thread_count(before);
}

TEST(Rng, OneSeedOneSequenceAndValuesInRange) {
  Rng a(42), b(42), c(43);
  int differ = 0;
  for (int i = 0; i < 1000; ++i) {
    const float x = a.uniform(-2.0f, 3.0f);
    EXPECT_EQ(x, b.uniform(-2.0f, 3.0f));
    EXPECT_GE(x, -2.0f);
    EXPECT_LT(x, 3.0f);
    differ += x != c.uniform(-2.0f, 3.0f);
    const int k = a.index(7);
    EXPECT_EQ(k, b.index(7));
    EXPECT_GE(k, 0);
    EXPECT_LT(k, 7);
    (void)c.index(7);
  }
  EXPECT_GT(differ, 990);
  // The normal deviates have the asked mean and spread.
  double sum = 0, sq = 0;
  for (int i = 0; i < 20000; ++i) {
    const double v = a.normal(1.5f, 2.0f);
    sum += v;
    sq += v * v;
  }
  const double mean = sum / 20000, sd = std::sqrt(sq / 20000 - mean * mean);
  EXPECT_NEAR(mean, 1.5, 0.05);
  EXPECT_NEAR(sd, 2.0, 0.05);
}

TEST(Error, BadInputNamesWhereAndWhat) {
  try {
    throw_bad_input("scene/cameras.bin", "truncated after 12 bytes");
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::BadInput);
    EXPECT_NE(std::string(e.what()).find("scene/cameras.bin"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("truncated after 12 bytes"), std::string::npos) << e.what();
  }
  try {
    throw_internal("invariant broken");
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Internal);
  }
}

TEST(Log, ASinkGetsMessagesThatPassTheLevelAndIsRemovedAfterwards) {
  const LogLevel before = log_level();
  std::vector<std::pair<LogSeverity, std::string>> seen;
  {
    ScopedLogSink sink([&](LogSeverity s, const std::string& m) { seen.emplace_back(s, m); });
    set_log_level(LogLevel::Info);
    log_info("hello");
    log_warn("careful");
    log_debug("hidden at Info");
    set_log_level(LogLevel::Debug);
    log_debug("shown at Debug");
    set_log_level(LogLevel::Quiet);
    log_info("hidden when quiet");
    log_warn("warnings always");
    {
      std::vector<std::string> inner;
      ScopedLogSink nested([&](LogSeverity, const std::string& m) { inner.push_back(m); });
      log_warn("to the inner sink");
      EXPECT_EQ(inner, std::vector<std::string>{"to the inner sink"});
    }
    log_warn("back to the outer sink");
  }
  set_log_level(before);
  const std::vector<std::pair<LogSeverity, std::string>> expected = {
      {LogSeverity::Info, "hello"},          {LogSeverity::Warning, "careful"},
      {LogSeverity::Debug, "shown at Debug"}, {LogSeverity::Warning, "warnings always"},
      {LogSeverity::Warning, "back to the outer sink"}};
  EXPECT_EQ(seen, expected);
  // The sink is gone: a message now goes to stderr and not to the vector.
  testing::internal::CaptureStderr();
  log_warn("after the sink");
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(err, "warning: after the sink\n");
  EXPECT_EQ(seen.size(), expected.size());
}

}  // namespace
}  // namespace sp
