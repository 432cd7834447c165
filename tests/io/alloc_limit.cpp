// Replaces the global operator new of test_io with one that refuses single allocations
// above a limit set by the fuzz helper (tests/support/fuzz.h), so a parser that trusts a
// corrupt count and asks for gigabytes fails the test instead of passing by luck (or being
// killed by the machine). The limit is off (SIZE_MAX) outside fuzz loops.
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace {
std::atomic<size_t> g_limit{SIZE_MAX};
}

namespace sp::test {
void set_allocation_limit(size_t bytes) { g_limit.store(bytes ? bytes : SIZE_MAX, std::memory_order_relaxed); }
}  // namespace sp::test

void* operator new(size_t n) {
  if (n > g_limit.load(std::memory_order_relaxed)) throw std::bad_alloc();
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n) { return ::operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
// The nothrow forms too (std::stable_sort's buffer uses them): a replaced delete must never
// free what the library's own new allocated (ASan: alloc-dealloc-mismatch).
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  if (n > g_limit.load(std::memory_order_relaxed)) return nullptr;
  return std::malloc(n ? n : 1);
}
void* operator new[](size_t n, const std::nothrow_t& t) noexcept { return ::operator new(n, t); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
