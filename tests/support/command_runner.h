#pragma once
// Runs a shell command for the end-to-end tests (CLI, viewer), capturing stdout + stderr
// and the exit code (128 + signal when it was killed).
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace sp::test {

struct CommandResult {
  int code = -1;
  std::string output;
};

inline CommandResult run_command(const std::string& command) {
  CommandResult r;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
  const int status = pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

}  // namespace sp::test
