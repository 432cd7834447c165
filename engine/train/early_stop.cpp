#include "engine/train/early_stop.h"

#include "engine/core/error.h"

namespace sp {

bool EarlyStop::add(long it, long from, double loss) {
  if (!options_.enabled || converged() || it <= from) return converged();
  sum_ += loss;
  if (++count_ < options_.window) return false;
  const double mean = sum_ / double(count_);
  sum_ = 0;
  count_ = 0;
  if (best_ < 0) {
    best_ = mean;
    return false;
  }
  // A window that is not clearly better than the best before it counts toward the patience.
  flat_ = mean < best_ * (1.0 - double(options_.tolerance)) ? 0 : flat_ + 1;
  if (mean < best_) best_ = mean;
  if (flat_ >= options_.patience) converged_at_ = it;
  return converged();
}

std::vector<double> EarlyStop::state() const {
  return {sum_, double(count_), best_, double(flat_), double(converged_at_)};
}

void EarlyStop::restore(const std::vector<double>& s) {
  if (s.size() != 5) throw_internal("EarlyStop::restore: expected 5 values");
  sum_ = s[0];
  count_ = long(s[1]);
  best_ = s[2];
  flat_ = int(s[3]);
  converged_at_ = long(s[4]);
}

}  // namespace sp
