#include "engine/core/error.h"

namespace sp {

void throw_bad_input(const std::string& where, const std::string& what) {
  throw Error(ErrorKind::BadInput, where.empty() ? what : where + ": " + what);
}

void throw_internal(const std::string& what) { throw Error(ErrorKind::Internal, "internal error: " + what); }

}  // namespace sp
