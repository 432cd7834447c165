#include "support/test_support.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <vector>

#include "engine/core/error.h"

namespace sp::test {
namespace fs = std::filesystem;

std::string data_dir() {
  const char* env = std::getenv("SPARSPLAT_DATA_DIR");
  fs::path dir = env && *env ? fs::path(env) : fs::path(SPARSPLAT_DATA_DIR);
  std::error_code ec;
  return fs::is_directory(dir, ec) ? fs::canonical(dir, ec).string() : std::string();
}

std::string dataset(const std::string& name) {
  const std::string root = data_dir();
  if (root.empty()) return {};
  std::error_code ec;
  const fs::path p = fs::path(root) / name;
  return fs::exists(p, ec) ? p.string() : std::string();
}

namespace {
std::mutex g_mutex;
std::vector<fs::path>& created() {
  static std::vector<fs::path> dirs;
  static const bool registered = [] {
    std::atexit([] {
      std::error_code ec;
      for (const auto& d : created()) fs::remove_all(d, ec);
    });
    return true;
  }();
  (void)registered;
  return dirs;
}
}  // namespace

void expect_bad_input(const std::function<void()>& f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "expected a BadInput error mentioning \"" << needle << "\"";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::BadInput) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << "message: " << e.what();
  }
}

std::string temp_dir(const std::string& label) {
  std::lock_guard<std::mutex> lock(g_mutex);
  static int counter = 0;
  const fs::path dir = fs::temp_directory_path() /
                       ("sparsplat-test-" + std::to_string(::getpid()) + "-" + label + "-" + std::to_string(counter++));
  fs::remove_all(dir);
  fs::create_directories(dir);
  created().push_back(dir);
  return dir.string();
}

}  // namespace sp::test
