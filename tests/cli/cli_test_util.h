#pragma once
// What the CLI tests share: running the sparsplat binary, and the bad-input contract
// (exit 2, exactly one line starting "error:", the last, naming the problem; no output).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "support/command_runner.h"

namespace sp::test {

inline CommandResult run_cli(const std::string& args) { return run_command(std::string(SPARSPLAT_CLI) + " " + args); }

inline void expect_cli_bad_input(const std::string& args, const std::string& needle, const std::string& output = "") {
  const CommandResult r = run_cli(args);
  EXPECT_EQ(r.code, 2) << args << "\n" << r.output;
  size_t errors = 0;
  for (size_t pos = 0; (pos = r.output.find("error:", pos)) != std::string::npos; ++pos) ++errors;
  EXPECT_EQ(errors, 1u) << args << "\n" << r.output;
  const size_t last = r.output.rfind('\n', r.output.size() >= 2 ? r.output.size() - 2 : 0);
  EXPECT_EQ(r.output.compare(last == std::string::npos ? 0 : last + 1, 6, "error:"), 0) << r.output;
  EXPECT_NE(r.output.find(needle), std::string::npos) << args << "\n" << r.output;
  if (!output.empty()) EXPECT_FALSE(std::filesystem::exists(output)) << "output written despite bad input: " << args;
}

}  // namespace sp::test
