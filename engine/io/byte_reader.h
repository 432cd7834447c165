#pragma once
// Bounds-checked little-endian reads over a byte buffer, shared by the binary parsers
// (COLMAP .bin, NPY, NPZ). Every failed read names the file, the byte offset and what was
// being read. Counts read from a file are checked against the bytes left BEFORE anything is
// allocated (check_count), so a corrupt count cannot make a parser ask for gigabytes.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

#include "engine/core/error.h"

namespace sp::detail {

static_assert(std::endian::native == std::endian::little, "the binary readers assume a little-endian host");

class ByteReader {
 public:
  ByteReader(std::string_view bytes, std::string where) : bytes_(bytes), where_(std::move(where)) {}

  size_t offset() const { return pos_; }
  size_t remaining() const { return bytes_.size() - pos_; }
  bool at_end() const { return pos_ == bytes_.size(); }
  const std::string& where() const { return where_; }

  template <class T>
  T read(const char* what) {
    static_assert(std::is_trivially_copyable_v<T>);
    need(sizeof(T), what);
    T value;
    std::memcpy(&value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }

  std::string_view read_bytes(size_t n, const char* what) {
    need(n, what);
    std::string_view out = bytes_.substr(pos_, n);
    pos_ += n;
    return out;
  }

  // A NUL-terminated string of at most max_len characters.
  std::string read_cstring(const char* what, size_t max_len = 4096) {
    const size_t end = bytes_.find('\0', pos_);
    if (end == std::string_view::npos) fail(std::string(what) + " has no terminating NUL before the end of the file");
    if (end - pos_ > max_len)
      fail(std::string(what) + " is " + std::to_string(end - pos_) + " bytes long (expected at most " +
           std::to_string(max_len) + ")");
    std::string out(bytes_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return out;
  }

  // Throws unless `count` records of at least `min_record_bytes` each can fit in what is left.
  void check_count(uint64_t count, size_t min_record_bytes, const std::string& what) const {
    if (min_record_bytes == 0) return;
    if (count > remaining() / min_record_bytes)
      fail(what + " count is " + std::to_string(count) + " but only " + std::to_string(remaining()) +
           " bytes remain (each needs at least " + std::to_string(min_record_bytes) + ")");
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw_bad_input(where_, what + " (at byte " + std::to_string(pos_) + " of " + std::to_string(bytes_.size()) + ")");
  }

 private:
  void need(size_t n, const char* what) const {
    if (n > remaining())
      fail(std::string("truncated while reading ") + what + " (needs " + std::to_string(n) + " bytes, " +
           std::to_string(remaining()) + " left)");
  }

  std::string_view bytes_;
  std::string where_;
  size_t pos_ = 0;
};

}  // namespace sp::detail
