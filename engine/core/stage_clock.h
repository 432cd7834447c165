#pragma once
// Wall seconds spent in each named part of a loop, summed over its passes: the trainer's
// per-stage breakdown (metrics.json "train_breakdown", bench/RESULTS.md). lap() ends the
// part being timed and starts the next, so timing a sequence costs one clock read per part.
#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace sp {

class StageClock {
 public:
  // Ends the current part (if any) and starts timing `part`.
  void lap(const char* part);
  // Ends the current part; nothing is timed until the next lap().
  void stop();
  // (part, seconds) in the order the parts first ran.
  std::vector<std::pair<std::string, double>> totals() const;

 private:
  using Clock = std::chrono::steady_clock;
  struct Part {
    std::string name;
    double seconds;
  };
  std::vector<Part> parts_;
  int current_ = -1;
  Clock::time_point since_{};
};

}  // namespace sp
