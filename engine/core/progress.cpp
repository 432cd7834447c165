#include "engine/core/progress.h"

#include <unistd.h>

#include <cstdio>

#include "engine/core/log.h"

namespace sp {

ProgressLine::ProgressLine(std::string label, long total, double plain_interval_seconds)
    : label_(std::move(label)),
      total_(total),
      interval_(plain_interval_seconds),
      tty_(::isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()),
      last_print_(start_) {}

ProgressLine::~ProgressLine() {
  if (tty_ && last_width_ > 0 && !finished_) std::fputc('\n', stderr);
}

double ProgressLine::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::string ProgressLine::format(long done, const std::string& detail) const {
  const double t = elapsed_seconds();
  // Rate counts steps since the first update, so a resumed run reports its own speed.
  const long counted = start_done_ < 0 ? 0 : done - start_done_;
  const double rate = t > 0 && counted > 0 ? double(counted) / t : 0.0;
  char buf[160];
  if (rate > 0) {
    const double eta = double(total_ - done) / rate;
    std::snprintf(buf, sizeof buf, "%s %ld/%ld (%3.0f%%) %.2f it/s ETA %dm%02ds", label_.c_str(), done, total_,
                  total_ > 0 ? 100.0 * double(done) / double(total_) : 100.0, rate, int(eta) / 60, int(eta) % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%s %ld/%ld", label_.c_str(), done, total_);
  }
  return detail.empty() ? std::string(buf) : std::string(buf) + " | " + detail;
}

void ProgressLine::update(long done, const std::string& detail) {
  if (log_level() == LogLevel::Quiet) return;
  if (start_done_ < 0) {
    start_done_ = done;
    start_ = std::chrono::steady_clock::now();
  }
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_print_).count();
  if (tty_) {
    if (since < 0.1 && done < total_) return;
    const std::string line = format(done, detail);
    std::fprintf(stderr, "\r%s%*s", line.c_str(), int(last_width_ > line.size() ? last_width_ - line.size() : 0), "");
    std::fflush(stderr);
    last_width_ = line.size();
  } else {
    if (since < interval_ && done < total_) return;
    std::fprintf(stderr, "%s\n", format(done, detail).c_str());
  }
  last_print_ = now;
}

void ProgressLine::finish(const std::string& detail) {
  if (log_level() == LogLevel::Quiet) return;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s done in %.1f s", label_.c_str(), elapsed_seconds());
  const std::string line = detail.empty() ? std::string(buf) : std::string(buf) + " | " + detail;
  if (tty_) std::fprintf(stderr, "\r%s%*s\n", line.c_str(), int(last_width_ > line.size() ? last_width_ - line.size() : 0), "");
  else std::fprintf(stderr, "%s\n", line.c_str());
  finished_ = true;
}

}  // namespace sp
