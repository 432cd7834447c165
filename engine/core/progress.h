#pragma once
// A progress line for long work: redrawn in place on a terminal, printed as plain
// periodic lines otherwise (logs, CI). Goes to stderr.
#include <chrono>
#include <string>

namespace sp {

class ProgressLine {
 public:
  // `total` steps; `label` starts every line ("train", "render"...).
  ProgressLine(std::string label, long total, double plain_interval_seconds = 10.0);
  ~ProgressLine();
  // Reports that `done` steps are complete; `detail` is appended (e.g. "loss 0.052 PSNR 24.1").
  void update(long done, const std::string& detail);
  // Final line with the total time.
  void finish(const std::string& detail);
  double elapsed_seconds() const;

 private:
  std::string format(long done, const std::string& detail) const;
  std::string label_;
  long total_;
  double interval_;
  bool tty_;
  bool finished_ = false;
  long start_done_ = -1;
  std::chrono::steady_clock::time_point start_, last_print_;
  size_t last_width_ = 0;
};

}  // namespace sp
