#pragma once
// Messages for the user go to stderr; stdout is kept for results (tables, JSON).
#include <string>

namespace sp {

enum class LogLevel { Quiet, Info, Debug };
void set_log_level(LogLevel level);
LogLevel log_level();
void log_info(const std::string& message);
void log_warn(const std::string& message);
void log_debug(const std::string& message);

}  // namespace sp
