#pragma once
// Mutation fuzzing for parsers inside ordinary GoogleTest runs (no libFuzzer needed): a
// parser given the empty input, prefixes of a valid input and seeded random mutations of
// it must either succeed or throw sp::Error of kind BadInput - never crash, hang, throw
// anything else or allocate absurdly.
//
// The allocation bound works when the test binary replaces operator new with a limited one
// (tests/io/alloc_limit.cpp does); set_allocation_limit is weak so other binaries link
// without it and simply skip that check.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <new>
#include <random>
#include <string>

#include "engine/core/error.h"

namespace sp::test {

void set_allocation_limit(size_t bytes) __attribute__((weak));  // 0 = no limit

struct FuzzOptions {
  int mutations = 500;        // random mutants of the valid input
  uint64_t seed = 1;
  size_t max_prefixes = 300;  // every prefix when the input is shorter, else an even sample
  size_t allocation_limit = size_t(64) << 20;  // any single allocation above this fails the test
  double max_seconds_per_call = 2.0;
};

struct FuzzStats {
  size_t calls = 0, accepted = 0, rejected = 0;  // the unmutated input included
  // The same split by kind of input, for tests that say how much a parser must reject:
  // a binary format rejects every truncation; a checked format most random edits.
  size_t prefixes = 0, prefixes_rejected = 0, mutations = 0, mutations_rejected = 0;
  double slowest_seconds = 0;
  double prefix_rejected_share() const { return prefixes ? double(prefixes_rejected) / double(prefixes) : 0.0; }
  double mutation_rejected_share() const { return mutations ? double(mutations_rejected) / double(mutations) : 0.0; }
};

// Random edits a corrupted file typically shows: bit flips, bytes set to boundary values,
// inserted/deleted/duplicated runs, 4/8-byte fields overwritten with extreme integers (hits
// counts and sizes in binary formats), digits and separators (hits text formats), truncation.
inline std::string mutate(const std::string& in, std::mt19937_64& rng) {
  std::string s = in;
  const auto pick = [&](size_t n) { return n == 0 ? size_t(0) : size_t(rng() % n); };
  static const char kText[] = "0123456789-+.eE \n\t#,:[]{}\"'nanifNaN";
  const int edits = 1 + int(rng() % 4);
  for (int e = 0; e < edits; ++e) {
    switch (rng() % 9) {
      case 0:
        if (!s.empty()) s[pick(s.size())] ^= char(1u << (rng() % 8));
        break;
      case 1: {
        static const unsigned char v[] = {0x00, 0xff, 0x7f, 0x80, 0x01, 0xfe};
        if (!s.empty()) s[pick(s.size())] = char(v[rng() % sizeof v]);
        break;
      }
      case 2:
        s.insert(s.begin() + long(pick(s.size() + 1)), char(rng() & 0xff));
        break;
      case 3:
        if (!s.empty()) {
          const size_t at = pick(s.size());
          s.erase(at, 1 + pick(std::min<size_t>(16, s.size() - at)));
        }
        break;
      case 4:
        if (!s.empty()) {
          const size_t at = pick(s.size()), n = 1 + pick(std::min<size_t>(32, s.size() - at));
          s.insert(pick(s.size() + 1), s.substr(at, n));
        }
        break;
      case 5:
        if (s.size() >= 8) {
          static const uint64_t v[] = {0, 1, 0x7fffffffull, 0xffffffffull, 0x80000000ull, 0xffffffffffffffffull,
                                       0x7fffffffffffffffull, 1ull << 40, 1000000};
          const uint64_t x = v[rng() % (sizeof v / sizeof v[0])];
          const size_t w = rng() % 2 ? 4 : 8, at = pick(s.size() - w + 1);
          for (size_t k = 0; k < w; ++k) s[at + k] = char((x >> (8 * k)) & 0xff);
        }
        break;
      case 6:
        if (!s.empty()) s[pick(s.size())] = kText[rng() % (sizeof kText - 1)];
        break;
      case 7:
        if (!s.empty()) s.resize(pick(s.size()));
        break;
      case 8:
        if (!s.empty()) {  // a long run of one digit: huge numbers in text formats
          const size_t at = pick(s.size());
          s.insert(at, std::string(1 + pick(40), char('0' + rng() % 10)));
        }
        break;
    }
  }
  return s;
}

// Runs parse(input) once; records a test failure (with `label`) unless it returns or throws
// a BadInput sp::Error. Returns false on such a failure.
template <class Parse>
bool fuzz_one(const Parse& parse, const std::string& input, const std::string& label, const FuzzOptions& opt,
              FuzzStats& stats) {
  if (set_allocation_limit) set_allocation_limit(opt.allocation_limit);
  const auto start = std::chrono::steady_clock::now();
  std::string failure;
  try {
    parse(input);
    ++stats.accepted;
  } catch (const sp::Error& e) {
    if (e.kind() != sp::ErrorKind::BadInput) failure = std::string("an Internal error: ") + e.what();
    else ++stats.rejected;
  } catch (const std::bad_alloc&) {
    failure = "std::bad_alloc (an allocation above the limit of " + std::to_string(opt.allocation_limit) + " bytes?)";
  } catch (const std::exception& e) {
    failure = std::string("a foreign exception: ") + e.what();
  } catch (...) {
    failure = "an unknown exception";
  }
  if (set_allocation_limit) set_allocation_limit(0);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  stats.slowest_seconds = std::max(stats.slowest_seconds, secs);
  ++stats.calls;
  if (secs > opt.max_seconds_per_call) failure += (failure.empty() ? "" : "; ") + std::string("took ") + std::to_string(secs) + " s";
  if (!failure.empty()) {
    ADD_FAILURE() << label << " (input of " << input.size() << " bytes): " << failure;
    return false;
  }
  return true;
}

// SPARSPLAT_FUZZ_SCALE=N in the environment multiplies the mutation counts (deeper runs,
// e.g. under ASan, without changing the tests); default 1.
inline int fuzz_scale() {
  const char* s = std::getenv("SPARSPLAT_FUZZ_SCALE");
  const int n = s ? std::atoi(s) : 1;
  return n > 0 ? n : 1;
}

// The unmutated `valid`, then the empty input, prefixes and mutations of it. Stops after the
// first few failures. Both outcomes are required of every caller (issue #17, item 6): the
// unmutated input must be accepted and at least one mutation rejected, so a parser that
// refuses everything, or checks nothing, fails here and not only one that crashes.
template <class Parse>
FuzzStats fuzz_parser(const std::string& valid, const Parse& parse, const FuzzOptions& opt = {}) {
  FuzzStats stats;
  int failures = 0;
  if (!fuzz_one(parse, valid, "the unmutated input", opt, stats)) ++failures;
  if (stats.accepted != 1) ADD_FAILURE() << "the unmutated input (" << valid.size() << " bytes) was rejected";
  // Runs one input; counts it under `total` / `rejected` when it was rejected.
  const auto run = [&](const std::string& input, const std::string& label, size_t& total, size_t& rejected) {
    const size_t before = stats.rejected;
    if (failures < 5 && !fuzz_one(parse, input, label, opt, stats)) ++failures;
    ++total;
    rejected += stats.rejected - before;
  };
  const size_t n = valid.size();
  const size_t count = std::min(n, opt.max_prefixes);
  for (size_t i = 0; i < count; ++i) {  // i = 0: the empty input
    const size_t len = count == n ? i : i * n / count;
    run(valid.substr(0, len), len == 0 ? "empty input" : "prefix of " + std::to_string(len) + " bytes", stats.prefixes,
        stats.prefixes_rejected);
  }
  if (count == 0) run(std::string(), "empty input", stats.prefixes, stats.prefixes_rejected);
  std::mt19937_64 rng(opt.seed);
  const int mutations = opt.mutations * fuzz_scale();
  for (int i = 0; i < mutations; ++i)
    run(mutate(valid, rng), "mutation " + std::to_string(i) + " (seed " + std::to_string(opt.seed) + ")",
        stats.mutations, stats.mutations_rejected);
  if (stats.mutations > 0 && stats.mutations_rejected == 0)
    ADD_FAILURE() << "none of " << stats.mutations << " mutated inputs was rejected (seed " << opt.seed << ")";
  return stats;
}

}  // namespace sp::test
