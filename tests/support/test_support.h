#pragma once
// Shared helpers for the GoogleTest suites.
#include <gtest/gtest.h>

#include <functional>
#include <string>

namespace sp::test {

// Runs f and expects an sp::Error of kind BadInput whose message contains `needle`.
void expect_bad_input(const std::function<void()>& f, const std::string& needle);

// ../shared/data beside the clone (or SPARSPLAT_DATA_DIR); "" when absent.
std::string data_dir();
// Path of a dataset folder in data_dir(), or "" when the folder is absent.
std::string dataset(const std::string& name);
// A fresh empty temporary folder, removed at process exit.
std::string temp_dir(const std::string& label);

}  // namespace sp::test

// Skips the current test politely when a real dataset is not available.
#define SP_REQUIRE_DATASET(var, name)                                                   \
  const std::string var = ::sp::test::dataset(name);                                    \
  if (var.empty()) GTEST_SKIP() << "dataset '" << name << "' not found under " \
                                << SPARSPLAT_DATA_DIR << " (shared data is optional)"
