// Issue #17, item 3: resource limits. A write that fails for lack of space (here: a file-size
// limit, which fails write(2) with EFBIG as a full disk fails it with ENOSPC) gives one clear
// BadInput line, leaves the previous file as it was and no temporary beside it; the memory
// budget refuses what exceeds it and says both sizes.
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <string>

#include "engine/core/atomic_file.h"
#include "engine/core/error.h"
#include "engine/core/memory_budget.h"
#include "support/test_support.h"

namespace sp {
namespace {

// Runs write_text_atomic(path, text) in a child limited to `limit` bytes per file and
// returns what it reported: "BadInput: <message>", or how it failed otherwise.
std::string write_in_limited_child(const std::string& path, const std::string& text, rlim_t limit) {
  int fds[2];
  if (pipe(fds) != 0) return "pipe failed";
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    std::signal(SIGXFSZ, SIG_IGN);  // else the kernel kills the process instead of failing write(2)
    const rlimit rl{limit, limit};
    setrlimit(RLIMIT_FSIZE, &rl);
    std::string report = "no error";
    try {
      write_text_atomic(path, text);
    } catch (const Error& e) {
      report = std::string(e.kind() == ErrorKind::BadInput ? "BadInput: " : "other: ") + e.what();
    } catch (...) {
      report = "foreign exception";
    }
    [[maybe_unused]] const ssize_t n = write(fds[1], report.data(), report.size());
    _exit(0);
  }
  close(fds[1]);
  std::string got;
  char buf[512];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) got.append(buf, size_t(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status)) return "child died (signal " + std::to_string(WTERMSIG(status)) + ")";
  return got;
}

TEST(DiskFull, AFailedWriteIsOneLineAndLeavesThePreviousFileAndNoTemporary) {
  namespace fs = std::filesystem;
  const std::string dir = test::temp_dir("disk-full");
  const std::string path = dir + "/point_cloud.ply";
  write_text_atomic(path, "the previous run's file\n");
  // 1 MiB into a 64 KiB limit: the writes past the limit fail with EFBIG.
  const std::string report = write_in_limited_child(path, std::string(1 << 20, 'x'), 64 << 10);
  std::printf("[disk full] %s\n", report.c_str());
  ASSERT_EQ(report.rfind("BadInput: ", 0), 0u) << report;
  EXPECT_EQ(report.find('\n'), std::string::npos);
  EXPECT_NE(report.find(path), std::string::npos) << report;
  EXPECT_NE(report.find(std::strerror(EFBIG)), std::string::npos) << report;
  EXPECT_EQ(read_file(path), "the previous run's file\n");
  size_t entries = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    ++entries;
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << "left behind: " << e.path();
  }
  EXPECT_EQ(entries, 1u);
  // The same write within the limit succeeds (the failure above came from the limit).
  EXPECT_EQ(write_in_limited_child(path, std::string(1000, 'y'), 64 << 10), "no error");
  EXPECT_EQ(read_file(path), std::string(1000, 'y'));
}

TEST(MemoryBudget, RefusesAboveTheBudgetAndSaysBoth) {
  set_memory_budget(size_t(8) << 20);
  EXPECT_NO_THROW(check_memory(size_t(8) << 20, "f", "x"));
  test::expect_bad_input([] { check_memory((size_t(8) << 20) + 1, "big.ply", "1000 vertices"); },
                         "big.ply: 1000 vertices needs 9 MiB, more than the memory budget of 8 MiB");
  EXPECT_EQ(saturating_mul(size_t(1) << 40, size_t(1) << 40), SIZE_MAX);
  test::expect_bad_input([] { check_memory(SIZE_MAX, "f", "x"); }, "more than 2^64 bytes");
  // Whole-file reads are checked against it before reading.
  const std::string path = test::temp_dir("budget") + "/big.bin";
  write_text_atomic(path, std::string((size_t(8) << 20) + 1, 'x'));
  test::expect_bad_input([&] { read_file(path); }, "big.bin: reading the file needs 9 MiB, more than the memory budget of 8 MiB");
  set_memory_budget(0);
  EXPECT_EQ(read_file(path).size(), (size_t(8) << 20) + 1);
  EXPECT_GT(memory_budget(), size_t(64) << 20);  // the machine's memory
}

}  // namespace
}  // namespace sp
