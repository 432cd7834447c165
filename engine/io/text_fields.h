#pragma once
// Line-oriented text parsing shared by the text readers (COLMAP .txt): lines with their
// numbers for error messages, whitespace-separated fields, strict numbers (the whole field
// must parse, doubles must be finite) so a corrupt file fails loudly instead of reading 0.
#include <charconv>
#include <cmath>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

#include "engine/core/error.h"

namespace sp::detail {

class TextLines {
 public:
  TextLines(std::string_view text, std::string where) : text_(text), where_(std::move(where)) {}

  // The next line without its line break; false at the end of the text.
  bool next(std::string_view& line) {
    if (pos_ >= text_.size()) return false;
    size_t end = text_.find('\n', pos_);
    if (end == std::string_view::npos) end = text_.size();
    line = text_.substr(pos_, end - pos_);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos_ = end + 1;
    ++line_;
    return true;
  }
  int line_number() const { return line_; }
  const std::string& where() const { return where_; }

  [[noreturn]] void fail(const std::string& what) const {
    throw_bad_input(where_ + ":" + std::to_string(line_), what);
  }

 private:
  std::string_view text_;
  std::string where_;
  size_t pos_ = 0;
  int line_ = 0;
};

inline std::string_view trim(std::string_view s) {
  const auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; };
  while (!s.empty() && ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && ws(s.back())) s.remove_suffix(1);
  return s;
}

inline bool is_blank_or_comment(std::string_view line) {
  line = trim(line);
  return line.empty() || line.front() == '#';
}

inline std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    const size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

// Parses a whole field as T; on failure throws through lines.fail naming the field.
template <class T>
T parse_field(std::string_view token, const TextLines& lines, const std::string& field) {
  T value{};
  const char* first = token.data();
  const char* last = token.data() + token.size();
  if constexpr (std::is_floating_point_v<T>) {
    if (!token.empty() && token.front() == '+') ++first;  // from_chars rejects a leading '+'
  }
  const auto [ptr, ec] = std::from_chars(first, last, value);
  const auto shown = [&] {
    return std::string(token.substr(0, 40)) + (token.size() > 40 ? "..." : "");
  };
  if (ec == std::errc::result_out_of_range) lines.fail(field + " '" + shown() + "' is out of range");
  if (ec != std::errc() || ptr != last || token.empty()) {
    lines.fail(field + ": expected " + (std::is_floating_point_v<T> ? "a number" : "an integer") + ", found '" +
               shown() + "'");
  }
  if constexpr (std::is_floating_point_v<T>) {
    if (!std::isfinite(value)) lines.fail(field + " is not finite ('" + shown() + "')");
  }
  return value;
}

}  // namespace sp::detail
