#include "engine/core/log.h"

#include <cstdio>
#include <mutex>

namespace sp {
namespace {
LogLevel g_level = LogLevel::Info;
std::mutex g_mutex;
LogSink g_sink;  // guarded by g_mutex

void emit(LogSeverity severity, const std::string& message) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_sink)
    g_sink(severity, message);
  else
    write_log_line(severity, message);
}
}  // namespace

void write_log_line(LogSeverity severity, const std::string& message) {
  const char* prefix = severity == LogSeverity::Warning ? "warning: " : severity == LogSeverity::Debug ? "debug: " : "";
  std::fprintf(stderr, "%s%s\n", prefix, message.c_str());
}

void set_log_level(LogLevel level) { g_level = level; }
LogLevel log_level() { return g_level; }
void log_info(const std::string& message) {
  if (g_level >= LogLevel::Info) emit(LogSeverity::Info, message);
}
void log_warn(const std::string& message) { emit(LogSeverity::Warning, message); }
void log_debug(const std::string& message) {
  if (g_level >= LogLevel::Debug) emit(LogSeverity::Debug, message);
}

ScopedLogSink::ScopedLogSink(LogSink sink) {
  std::lock_guard<std::mutex> lock(g_mutex);
  previous_ = std::move(g_sink);
  g_sink = std::move(sink);
}

ScopedLogSink::~ScopedLogSink() {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_sink = std::move(previous_);
}

}  // namespace sp
