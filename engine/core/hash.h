#pragma once
// FNV-1a, 64 bit: enough to notice that inputs changed between two runs (a submission's
// scene files, a language run's frozen model and features); not a cryptographic hash.
#include <cstdint>
#include <string_view>
#include <vector>

namespace sp {

// Continues hash `h` (0: start a new one) over `bytes`.
inline uint64_t fnv1a(uint64_t h, std::string_view bytes) {
  if (h == 0) h = 1469598103934665603ull;
  for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;
  return h;
}
template <class T>
uint64_t fnv1a(uint64_t h, const std::vector<T>& values) {
  return fnv1a(h, std::string_view(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T)));
}

}  // namespace sp
