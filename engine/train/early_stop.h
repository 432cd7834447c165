#pragma once
// Early stop (docs/training.md "Early stop"): a held-out-free signal that more iterations
// will not help. After densification has ended, the train loss is averaged over windows of
// `window` iterations; the run has converged when `patience` windows in a row each come
// within `tolerance` (relative) of the best window before them. The state is a handful of
// numbers, saved in checkpoints and rollback copies so a resumed run stops where an
// uninterrupted one does.
#include <vector>

namespace sp {

struct EarlyStopOptions {
  bool enabled = false;
  long window = 100;       // iterations per averaged window
  float tolerance = 0.01f; // a window must beat the best earlier one by this share of it
  int patience = 2;        // windows in a row without that gain
};

class EarlyStop {
 public:
  explicit EarlyStop(const EarlyStopOptions& options = {}) : options_(options) {}
  // The loss of the step that completed iteration `it`; steps at or before `from` (the end of
  // densification) are ignored. Returns converged().
  bool add(long it, long from, double loss);
  bool converged() const { return converged_at_ >= 0; }
  long converged_at() const { return converged_at_; }  // -1 while running
  // The best window's mean loss so far (0 before the first window).
  double best() const { return best_ < 0 ? 0.0 : best_; }

  // For checkpoints: {sum, count, best, flat, converged_at}; restore() takes what state() gave.
  std::vector<double> state() const;
  void restore(const std::vector<double>& state);

 private:
  EarlyStopOptions options_;
  double sum_ = 0;
  long count_ = 0;
  double best_ = -1;  // -1: no window yet
  int flat_ = 0;
  long converged_at_ = -1;
};

}  // namespace sp
