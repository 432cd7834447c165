#include "engine/core/memory_budget.h"

#include <unistd.h>

#include <atomic>
#include <cstdint>

#include "engine/core/error.h"

namespace sp {

namespace {
std::atomic<size_t> g_budget{0};  // 0: the default

size_t physical_memory() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return SIZE_MAX;
  return saturating_mul(size_t(pages), size_t(page));
}

}  // namespace

size_t memory_budget() {
  const size_t b = g_budget.load(std::memory_order_relaxed);
  if (b) return b;
  static const size_t physical = physical_memory();
  return physical;
}

void set_memory_budget(size_t bytes) { g_budget.store(bytes, std::memory_order_relaxed); }

ScopedMemoryBudget::ScopedMemoryBudget(size_t bytes) : previous_(g_budget.exchange(bytes)) {}
ScopedMemoryBudget::~ScopedMemoryBudget() { g_budget.store(previous_); }

std::string memory_size_text(size_t bytes) {
  if (bytes < (size_t(1) << 20)) return std::to_string((bytes + 1023) >> 10) + " KiB";
  return std::to_string(bytes / (size_t(1) << 20) + (bytes % (size_t(1) << 20) != 0)) + " MiB";
}

size_t saturating_mul(size_t a, size_t b) {
  if (a != 0 && b > SIZE_MAX / a) return SIZE_MAX;
  return a * b;
}

void check_memory(size_t bytes, const std::string& where, const std::string& what) {
  const size_t budget = memory_budget();
  if (bytes > budget)
    throw_bad_input(where, what + " needs " + (bytes == SIZE_MAX ? std::string("more than 2^64 bytes") : memory_size_text(bytes)) +
                               ", more than the memory budget of " + memory_size_text(budget));
}

}  // namespace sp
