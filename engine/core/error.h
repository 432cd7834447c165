#pragma once
// One exception type for the whole engine. The CLI prints what() on one line and exits
// 2 for bad input (a file or option the user can fix), 1 for an internal failure, or
// 128 + the signal for a run stopped by SIGINT / SIGTERM (Interrupted).
#include <stdexcept>
#include <string>

namespace sp {

enum class ErrorKind { BadInput, Internal, Interrupted };

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

// A run that stopped on request (engine/core/stop_signal.h) after saving what it needs to
// continue; what() says where that went.
class Interrupted : public Error {
 public:
  Interrupted(int signal, const std::string& message) : Error(ErrorKind::Interrupted, message), signal_(signal) {}
  int signal() const { return signal_; }

 private:
  int signal_;
};

// "where: what", e.g. "scene/sparse/0/cameras.bin: truncated in camera 3 (needs 24 more bytes)".
[[noreturn]] void throw_bad_input(const std::string& where, const std::string& what);
[[noreturn]] void throw_internal(const std::string& what);

}  // namespace sp
