#pragma once
// The most memory one piece of input may make the engine ask for. Parsers check what a
// file's counts and sizes imply (vertex counts, array shapes, image dimensions) against it
// BEFORE allocating, so a tiny file claiming a huge count is refused with a clear error
// instead of exhausting the machine. Default: the machine's physical memory; `recon
// --max-memory` and the fuzz targets set a smaller one.
#include <cstddef>
#include <string>

namespace sp {

size_t memory_budget();
void set_memory_budget(size_t bytes);  // 0 restores the default

// Sets the budget for a scope (a run) and restores the previous setting after it.
class ScopedMemoryBudget {
 public:
  explicit ScopedMemoryBudget(size_t bytes);
  ~ScopedMemoryBudget();
  ScopedMemoryBudget(const ScopedMemoryBudget&) = delete;
  ScopedMemoryBudget& operator=(const ScopedMemoryBudget&) = delete;

 private:
  size_t previous_;
};

// a * b, saturating at SIZE_MAX (a product of counts from a file can overflow).
size_t saturating_mul(size_t a, size_t b);

// "120 KiB" below 1 MiB, else "3219 MiB" (rounded up).
std::string memory_size_text(size_t bytes);

// BadInput "where: WHAT needs N MiB, more than the memory budget of M MiB" when bytes
// exceeds the budget.
void check_memory(size_t bytes, const std::string& where, const std::string& what);

}  // namespace sp
