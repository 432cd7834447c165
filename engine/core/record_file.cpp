#include "engine/core/record_file.h"

#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include "engine/core/error.h"

namespace sp {

namespace {
std::vector<std::pair<std::string, std::string>> parse_meta(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> meta;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    const size_t eq = line.find('=');
    if (eq != std::string::npos) meta.emplace_back(line.substr(0, eq), line.substr(eq + 1));
  }
  return meta;
}
}  // namespace

long RecordFile::number(const std::string& key, long lo, long hi) const {
  const auto it = meta.find(key);
  if (it == meta.end()) throw_bad_input(where, what + " lacks '" + key + "'");
  const std::string& s = it->second;
  size_t used = 0;
  long v = 0;
  try {
    v = std::stol(s, &used);
  } catch (...) {
    used = 0;
  }
  if (used == 0 || used != s.size()) throw_bad_input(where, what + " field '" + key + "' is not a number ('" + s + "')");
  if (v < lo || v > hi)
    throw_bad_input(where, what + " field '" + key + "' is " + s + ", expected " + std::to_string(lo) + ".." +
                               std::to_string(hi));
  return v;
}

size_t RecordFile::count(const std::string& key, size_t file_bytes) const {
  const long v = number(key, 0, std::numeric_limits<long>::max());
  if (size_t(v) > file_bytes)
    throw_bad_input(where, what + " field '" + key + "' is " + std::to_string(v) + ", more than its " +
                               std::to_string(file_bytes) + " bytes can hold");
  return size_t(v);
}

std::string_view RecordFile::record(const std::string& name) const {
  const auto it = bytes.find(name);
  if (it == bytes.end()) throw_bad_input(where, what + " lacks record '" + name + "'");
  return it->second;
}

void RecordFile::floats(const std::string& name, std::vector<float>& v, size_t expected) const {
  const std::string_view r = record(name);
  // expected <= the file's size (the caller bounds the counts), so expected * 4 cannot overflow.
  if (r.size() != expected * sizeof(float))
    throw_bad_input(where, "array '" + name + "' has " + std::to_string(r.size()) + " bytes, expected " +
                               std::to_string(expected) + " floats");
  v.resize(expected);
  if (expected > 0) std::memcpy(v.data(), r.data(), r.size());  // data() may be null when empty
}

void RecordFile::rng(const std::string& name, std::mt19937_64& engine) const {
  std::istringstream in{std::string(record(name))};
  in >> engine;
  if (!in) throw_bad_input(where, what + " RNG state '" + name + "' is unreadable");
}

namespace {
std::vector<std::pair<std::string, std::string>> with_prefix(
    const std::vector<std::pair<std::string, std::string>>& entries, const std::string& prefix) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [key, value] : entries)
    if (key.compare(0, prefix.size(), prefix) == 0) out.emplace_back(key.substr(prefix.size()), value);
  return out;
}
}  // namespace

std::vector<std::pair<std::string, std::string>> RecordFile::meta_with_prefix(const std::string& prefix) const {
  return with_prefix({meta.begin(), meta.end()}, prefix);
}

RecordFile parse_record_file(std::string_view data, std::string_view magic, const std::string& what,
                             const std::string& where) {
  if (data.size() < magic.size() || data.substr(0, magic.size()) != magic)
    throw_bad_input(where, "not a sparsplat " + what + " (bad magic)");
  RecordFile r{{}, {}, what, where};
  size_t pos = magic.size();
  while (pos < data.size()) {
    uint32_t n = 0;
    uint64_t bytes = 0;
    if (data.size() - pos < 4) throw_bad_input(where, "truncated record header at byte " + std::to_string(pos));
    std::memcpy(&n, data.data() + pos, 4);
    pos += 4;
    if (data.size() - pos < uint64_t(n) + 8) throw_bad_input(where, "truncated record name at byte " + std::to_string(pos));
    std::string name(data.substr(pos, n));
    pos += n;
    std::memcpy(&bytes, data.data() + pos, 8);
    pos += 8;
    if (data.size() - pos < bytes) throw_bad_input(where, "record '" + name + "' is truncated");
    if (!r.bytes.emplace(name, data.substr(pos, size_t(bytes))).second)
      throw_bad_input(where, "record '" + name + "' appears twice");
    pos += size_t(bytes);
  }
  for (auto& [key, value] : parse_meta(std::string(r.record("meta")))) r.meta[key] = std::move(value);
  return r;
}

void write_record(std::ostream& out, const std::string& name, const void* data, uint64_t bytes) {
  const uint32_t n = uint32_t(name.size());
  out.write(reinterpret_cast<const char*>(&n), 4);
  out.write(name.data(), n);
  out.write(reinterpret_cast<const char*>(&bytes), 8);
  out.write(static_cast<const char*>(data), std::streamsize(bytes));
}

void write_record(std::ostream& out, const std::string& name, const std::vector<float>& values) {
  write_record(out, name, values.data(), values.size() * sizeof(float));
}

std::vector<std::pair<std::string, std::string>> read_record_meta(const std::string& path, std::string_view magic,
                                                    const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  std::string head(magic.size(), '\0');
  uint32_t n = 0;
  uint64_t bytes = 0;
  if (!in.read(head.data(), std::streamsize(head.size())) || head != magic)
    throw_bad_input(path, "not a sparsplat " + what + " (bad magic)");
  std::string name;
  if (in.read(reinterpret_cast<char*>(&n), 4) && n < 64) {
    name.resize(n);
    in.read(name.data(), n);
    in.read(reinterpret_cast<char*>(&bytes), 8);
  }
  if (!in || name != "meta" || bytes > (1u << 20)) throw_bad_input(path, what + " header is unreadable");
  std::string meta(size_t(bytes), '\0');
  if (!in.read(meta.data(), std::streamsize(bytes))) throw_bad_input(path, what + " header is truncated");
  return parse_meta(meta);
}

std::vector<std::pair<std::string, std::string>> read_record_meta(const std::string& path, std::string_view magic,
                                                                  const std::string& what, const std::string& prefix) {
  return with_prefix(read_record_meta(path, magic, what), prefix);
}

}  // namespace sp
