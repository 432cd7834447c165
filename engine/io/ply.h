#pragma once
// Generic PLY files (Turk's polygon format): header, elements, typed properties. Knows
// nothing about Gaussians or meshes; engine/io/gaussian_ply.h builds GaussianModel on it.
//
// Reading accepts `format ascii`, `binary_little_endian` and `binary_big_endian` (version
// 1.0), the scalar types char/uchar/short/ushort/int/uint/float/double and their
// int8/uint8/int16/uint16/int32/uint32/float32/float64 aliases, and list properties (read
// or skipped). Every count is checked against the bytes the file actually holds before
// anything is allocated, so a corrupt or truncated file gives a BadInput error naming the
// file and the element, never a crash or a huge allocation.
//
// Writing produces binary_little_endian 1.0 with scalar properties only, atomically.
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace sp::ply {

enum class Format { Ascii, BinaryLittleEndian, BinaryBigEndian };
enum class Type : uint8_t { Int8, UInt8, Int16, UInt16, Int32, UInt32, Float32, Float64 };

size_t type_size(Type type);
const char* type_name(Type type);  // the canonical header spelling: "char", "uchar", ... "double"

struct Property {
  std::string name;
  Type type = Type::Float32;     // the value type (the item type for a list)
  bool is_list = false;
  Type count_type = Type::UInt8;  // type of a list's length prefix
};

struct Element {
  std::string name;
  size_t count = 0;
  std::vector<Property> properties;
  // Index of the property called `name`, or -1.
  int find(const std::string& name) const;
};

struct Header {
  Format format = Format::BinaryLittleEndian;
  std::vector<std::string> comments;  // text after "comment " (and "obj_info ")
  std::vector<Element> elements;
  size_t data_offset = 0;  // byte offset of the first data byte (after "end_header\n")
  // Index of the element called `name`, or -1.
  int find(const std::string& name) const;
};

// Parses just the header of `bytes` (the whole file); `where` names the file in errors.
Header parse_header(const std::string& bytes, const std::string& where);

struct ReadOptions {
  bool read_lists = true;  // false: list properties are validated and skipped, not stored
};

// A parsed PLY file. Scalar properties are kept as packed rows (for a binary file in the
// machine's byte order with no lists: the file bytes themselves, no copy) and converted
// to the requested type on access; list properties are stored as doubles, which hold
// every PLY value type exactly.
class PlyData {
 public:
  PlyData();
  ~PlyData();
  PlyData(PlyData&&) noexcept;
  PlyData& operator=(PlyData&&) noexcept;

  const Header& header() const;
  const std::string& source() const;  // the file name used in error messages

  const Element* element(const std::string& name) const;  // nullptr when absent
  bool has_property(const std::string& element, const std::string& property) const;

  // A scalar property as float / double (converted from its stored type). BadInput naming
  // the file if the element or property is missing or the property is a list.
  std::vector<float> floats(const std::string& element, const std::string& property) const;
  std::vector<double> doubles(const std::string& element, const std::string& property) const;
  // Writes the property's value of row i to dst[i * dst_stride] (in floats), e.g. to fill
  // one column of an N x 3 array in place; rows [row_begin, row_end) only when given
  // (copying many columns a block of rows at a time keeps the rows in cache).
  void copy_floats(const std::string& element, const std::string& property, float* dst, size_t dst_stride,
                   size_t row_begin = 0, size_t row_end = SIZE_MAX) const;

  // A list property: row i holds values[offsets[i] .. offsets[i + 1]). Empty when lists
  // were not read (ReadOptions::read_lists = false).
  struct List {
    std::vector<size_t> offsets;
    std::vector<double> values;
  };
  const List& list(const std::string& element, const std::string& property) const;

  struct Impl;

 private:
  friend PlyData read_ply_bytes(std::string bytes, const std::string& where, const ReadOptions& options);
  std::unique_ptr<Impl> impl_;
};

// Reads and parses a whole file. BadInput naming `path` on any problem.
PlyData read_ply(const std::string& path, const ReadOptions& options = {});
// Same, from the file's bytes in memory; `where` names them in errors.
PlyData read_ply_bytes(std::string bytes, const std::string& where, const ReadOptions& options = {});

// One scalar column to write: `data` points at row 0's value, of the C type matching
// `type`, and row i's value is at byte offset i * stride_bytes from there.
struct Column {
  std::string name;
  Type type = Type::Float32;
  const void* data = nullptr;
  size_t stride_bytes = 0;

  // Column of floats where row i is at data[i * stride] (stride in floats).
  static Column of(std::string name, const float* data, size_t stride = 1) {
    return Column{std::move(name), Type::Float32, data, stride * sizeof(float)};
  }
};

struct ElementOut {
  std::string name;
  size_t count = 0;
  std::vector<Column> columns;
};

// Writes a binary_little_endian 1.0 file (comments first, then the elements in order).
void write_ply(std::ostream& out, const std::vector<ElementOut>& elements, const std::vector<std::string>& comments = {});
// The same, atomically to `path` (temporary file + rename).
void write_ply(const std::string& path, const std::vector<ElementOut>& elements,
               const std::vector<std::string>& comments = {});

}  // namespace sp::ply
