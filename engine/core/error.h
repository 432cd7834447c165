#pragma once
// One exception type for the whole engine. The CLI prints what() on one line and exits
// 2 for bad input (a file or option the user can fix) or 1 for an internal failure.
#include <stdexcept>
#include <string>

namespace sp {

enum class ErrorKind { BadInput, Internal };

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

// "where: what", e.g. "scene/sparse/0/cameras.bin: truncated in camera 3 (needs 24 more bytes)".
[[noreturn]] void throw_bad_input(const std::string& where, const std::string& what);
[[noreturn]] void throw_internal(const std::string& what);

}  // namespace sp
