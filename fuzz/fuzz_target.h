#pragma once
// What every fuzz target checks: the parser returns, or throws sp::Error of kind BadInput
// (the one-line error the CLI prints). Anything else - a crash, a sanitizer report, an
// Internal error, a foreign exception, an allocation above libFuzzer's -malloc_limit_mb -
// aborts, and libFuzzer saves the input.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <new>
#include <string>
#include <string_view>

#include <unistd.h>

#include "engine/core/error.h"
#include "engine/core/log.h"
#include "engine/core/memory_budget.h"

namespace sp::fuzz {

// Quiet logs, and a memory budget (engine/core/memory_budget.h) far below libFuzzer's
// malloc limit, so an input whose header claims more is refused by the parser's own check.
inline void setup() {
  static const bool once = [] {
    set_log_level(LogLevel::Quiet);
    set_memory_budget(size_t(256) << 20);
    return true;
  }();
  (void)once;
}

template <class Parse>
int run(const uint8_t* data, size_t size, const Parse& parse) {
  setup();
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    parse(bytes);
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::BadInput) return 0;
    std::fprintf(stderr, "fuzz: not a BadInput error: %s\n", e.what());
    std::abort();
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "fuzz: std::bad_alloc\n");
    std::abort();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz: foreign exception: %s\n", e.what());
    std::abort();
  }
  return 0;
}

// A folder for targets whose parser reads files beside its input (transforms.json resolves
// image paths; the image header reader takes a path). Made once per process.
inline std::string scratch_dir() {
  static const std::string dir = [] {
    std::string t = (access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp") + std::string("/sparsplat-fuzz-XXXXXX");
    if (!mkdtemp(t.data())) std::abort();
    static std::string made = t;
    std::atexit([] { std::filesystem::remove_all(made); });
    return t;
  }();
  return dir;
}

}  // namespace sp::fuzz

#define SPARSPLAT_FUZZ_TARGET(body)                                                \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {       \
    return sp::fuzz::run(data, size, [&](std::string_view bytes) { body; });       \
  }
