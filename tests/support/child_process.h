#pragma once
// A sparsplat process a test can signal (kill / resume tests, docs/training.md "Checkpoints
// and resume"): spawned without a shell between, so the pid is the program's own, its
// stdout and stderr into one log file.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace sp::test {

struct Child {
  pid_t pid = -1;
  std::string log;
};

inline Child spawn_program(const std::string& program, const std::vector<std::string>& args, const std::string& log) {
  Child c;
  c.log = log;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  std::vector<std::string> all = {program};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  if (posix_spawn(&c.pid, program.c_str(), &fa, nullptr, argv.data(), environ) != 0) c.pid = -1;
  posix_spawn_file_actions_destroy(&fa);
  return c;
}

// Exit code, or 128 + the signal that ended it.
inline int wait_child(const Child& c) {
  int status = 0;
  if (waitpid(c.pid, &status, 0) != c.pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Polls until `ready` (true) or until the child ends (false, its exit code in *ended) or
// 60 s pass (false).
inline bool wait_until(const Child& c, const std::function<bool()>& ready, int* ended = nullptr) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    if (ready()) return true;
    int status;
    if (waitpid(c.pid, &status, WNOHANG) == c.pid) {
      if (ended) *ended = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return false;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  return false;
}

inline std::string joined(const std::vector<std::string>& args) {
  std::string s;
  for (const std::string& a : args) s += (s.empty() ? "" : " ") + a;
  return s;
}

}  // namespace sp::test
