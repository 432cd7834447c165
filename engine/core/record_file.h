#pragma once
// Files of named binary records, the layout of every resumable state file (the trainer's
// checkpoint, engine/train/checkpoint_file.h; the language field's, engine/language/
// language_checkpoint.h): an 8-byte magic naming the kind, then records [u32 name
// length][name][u64 byte count][bytes]. Record "meta" comes first and holds key=value lines;
// the others are raw little-endian arrays or the text state of a std::mt19937_64.
// Decoding never trusts a count: every one is checked against the file's size before use.
#include <cstdint>
#include <iosfwd>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sp {

struct RecordFile {
  std::map<std::string, std::string_view> bytes;  // views into the file's bytes
  std::map<std::string, std::string> meta;
  std::string what;   // "checkpoint", "language checkpoint": the errors' noun
  std::string where;  // the file, for the errors

  bool has(const std::string& name) const { return bytes.count(name) != 0; }
  // Meta value `key` as an integer in [lo, hi]; BadInput when missing, not a number or out of range.
  long number(const std::string& key, long lo, long hi) const;
  // A count of things stored in the file, which cannot exceed its `file_bytes`.
  size_t count(const std::string& key, size_t file_bytes) const;
  std::string_view record(const std::string& name) const;  // BadInput when missing
  // Record `name` as exactly `expected` floats (the caller bounds `expected` by the file's size).
  void floats(const std::string& name, std::vector<float>& v, size_t expected) const;
  void rng(const std::string& name, std::mt19937_64& engine) const;
  // The meta entries whose keys start with `prefix`, the prefix removed (a fingerprint: "fp.").
  std::vector<std::pair<std::string, std::string>> meta_with_prefix(const std::string& prefix) const;
};

// BadInput naming `where` for a wrong magic ("not a sparsplat WHAT (bad magic)"), truncated or
// repeated records, or a missing meta record.
RecordFile parse_record_file(std::string_view data, std::string_view magic, const std::string& what,
                             const std::string& where);

void write_record(std::ostream& out, const std::string& name, const void* data, uint64_t bytes);
void write_record(std::ostream& out, const std::string& name, const std::vector<float>& values);

// Only the meta record of the file at `path` (the header, without reading the arrays), its
// key=value lines in file order.
std::vector<std::pair<std::string, std::string>> read_record_meta(const std::string& path, std::string_view magic,
                                                                  const std::string& what);
// Of those, the entries whose keys start with `prefix`, the prefix removed.
std::vector<std::pair<std::string, std::string>> read_record_meta(const std::string& path, std::string_view magic,
                                                                  const std::string& what, const std::string& prefix);

}  // namespace sp
