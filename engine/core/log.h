#pragma once
// Messages for the user go to stderr; stdout is kept for results (tables, JSON). A caller
// that shows messages elsewhere (the pipeline's observer: a GUI, a service) installs a
// sink for the duration of its work.
#include <functional>
#include <string>

namespace sp {

enum class LogLevel { Quiet, Info, Debug };
void set_log_level(LogLevel level);
LogLevel log_level();
void log_info(const std::string& message);
void log_warn(const std::string& message);
void log_debug(const std::string& message);

enum class LogSeverity { Debug, Info, Warning };
// The default destination: one line on stderr ("warning: " / "debug: " prefixed).
void write_log_line(LogSeverity severity, const std::string& message);

// While alive, every message that passes the log level goes to `sink` instead of stderr
// (from any thread, one at a time; the sink must not log itself); the previous sink comes
// back on destruction.
using LogSink = std::function<void(LogSeverity, const std::string&)>;
class ScopedLogSink {
 public:
  explicit ScopedLogSink(LogSink sink);
  ~ScopedLogSink();
  ScopedLogSink(const ScopedLogSink&) = delete;
  ScopedLogSink& operator=(const ScopedLogSink&) = delete;

 private:
  LogSink previous_;
};

}  // namespace sp
