#include "engine/core/log.h"

#include <cstdio>
#include <mutex>

namespace sp {
namespace {
LogLevel g_level = LogLevel::Info;
std::mutex g_mutex;
void emit(const char* prefix, const std::string& message) {
  std::lock_guard<std::mutex> lock(g_mutex);
  std::fprintf(stderr, "%s%s\n", prefix, message.c_str());
}
}  // namespace

void set_log_level(LogLevel level) { g_level = level; }
LogLevel log_level() { return g_level; }
void log_info(const std::string& message) {
  if (g_level >= LogLevel::Info) emit("", message);
}
void log_warn(const std::string& message) { emit("warning: ", message); }
void log_debug(const std::string& message) {
  if (g_level >= LogLevel::Debug) emit("debug: ", message);
}

}  // namespace sp
