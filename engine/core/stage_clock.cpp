#include "engine/core/stage_clock.h"

namespace sp {

void StageClock::lap(const char* part) {
  const Clock::time_point now = Clock::now();
  if (current_ >= 0) parts_[size_t(current_)].seconds += std::chrono::duration<double>(now - since_).count();
  current_ = -1;
  for (size_t i = 0; i < parts_.size(); ++i)
    if (parts_[i].name == part) {
      current_ = int(i);
      break;
    }
  if (current_ < 0) {
    parts_.push_back({part, 0.0});
    current_ = int(parts_.size()) - 1;
  }
  since_ = now;
}

void StageClock::stop() {
  if (current_ >= 0)
    parts_[size_t(current_)].seconds += std::chrono::duration<double>(Clock::now() - since_).count();
  current_ = -1;
}

std::vector<std::pair<std::string, double>> StageClock::totals() const {
  std::vector<std::pair<std::string, double>> out;
  for (const Part& p : parts_) out.emplace_back(p.name, p.seconds);
  return out;
}

}  // namespace sp
