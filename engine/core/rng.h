#pragma once
// The engine's random source: one seed gives the same run (std::mt19937_64 and the
// distributions are deterministic for a given standard library).
#include <cstdint>
#include <random>

namespace sp {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) : engine_(seed) {}
  float uniform(float lo = 0.0f, float hi = 1.0f) { return std::uniform_real_distribution<float>(lo, hi)(engine_); }
  float normal(float mean = 0.0f, float stddev = 1.0f) { return std::normal_distribution<float>(mean, stddev)(engine_); }
  // Integer in [0, n).
  int index(int n) { return std::uniform_int_distribution<int>(0, n - 1)(engine_); }
  std::mt19937_64& engine() { return engine_; }
  const std::mt19937_64& engine() const { return engine_; }

 private:
  std::mt19937_64 engine_;
};

}  // namespace sp
