#include "engine/io/npy.h"

#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <ostream>

#include "engine/core/atomic_file.h"
#include "engine/core/error.h"
#include "engine/io/byte_reader.h"

namespace sp {
namespace {

using detail::ByteReader;

constexpr std::string_view kMagic = "\x93NUMPY";

// The header is a Python dict literal, e.g. {'descr': '<f8', 'fortran_order': False,
// 'shape': (20, 17), }. A small strict parser for exactly that grammar: string keys,
// values that are strings, True/False or tuples of non-negative integers.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& where) : s_(text), where_(where) {}

  void parse(std::string& descr, bool& fortran, std::vector<size_t>& shape) {
    bool have_descr = false, have_fortran = false, have_shape = false;
    skip_ws();
    expect('{');
    while (true) {
      skip_ws();
      if (peek() == '}') break;
      const std::string key = string_literal("a key");
      skip_ws();
      expect(':');
      skip_ws();
      if (key == "descr") {
        descr = string_literal("descr");
        have_descr = true;
      } else if (key == "fortran_order") {
        fortran = boolean();
        have_fortran = true;
      } else if (key == "shape") {
        shape = tuple();
        have_shape = true;
      } else {
        fail("unexpected header key '" + key + "' (expected descr, fortran_order, shape)");
      }
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      skip_ws();
      if (peek() != '}') fail("expected ',' or '}' in the header dict");
    }
    expect('}');
    skip_ws();
    if (pos_ != s_.size()) fail("unexpected text after the header dict");
    if (!have_descr || !have_fortran || !have_shape)
      fail("header lacks one of 'descr', 'fortran_order', 'shape'");
  }

 private:
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\t' || s_[pos_] == '\r')) ++pos_;
  }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "' in the header");
    ++pos_;
  }
  std::string string_literal(const char* what) {
    const char q = peek();
    if (q != '\'' && q != '"') fail(std::string("expected a quoted string for ") + what);
    const size_t end = s_.find(q, pos_ + 1);
    if (end == std::string_view::npos) fail(std::string("unterminated string for ") + what);
    std::string out(s_.substr(pos_ + 1, end - pos_ - 1));
    pos_ = end + 1;
    return out;
  }
  bool boolean() {
    if (s_.substr(pos_, 4) == "True") {
      pos_ += 4;
      return true;
    }
    if (s_.substr(pos_, 5) == "False") {
      pos_ += 5;
      return false;
    }
    fail("fortran_order must be True or False");
  }
  std::vector<size_t> tuple() {
    std::vector<size_t> dims;
    expect('(');
    while (true) {
      skip_ws();
      if (peek() == ')') break;
      size_t v = 0;
      int digits = 0;
      while (peek() >= '0' && peek() <= '9') {
        if (++digits > 18) fail("shape dimension is too large");
        v = v * 10 + size_t(peek() - '0');
        ++pos_;
      }
      if (peek() == 'L') ++pos_;  // Python 2 long suffix
      if (digits == 0) fail("expected an integer in the shape tuple");
      if (dims.size() >= 32) fail("shape has more than 32 dimensions");
      dims.push_back(v);
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() != ')') fail("expected ',' or ')' in the shape tuple");
    }
    expect(')');
    return dims;
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw_bad_input(where_, "bad .npy header: " + what + " (header: " + std::string(s_.substr(0, 120)) + ")");
  }

  std::string_view s_;
  const std::string& where_;
  size_t pos_ = 0;
};

template <class T>
void convert(std::string_view raw, std::vector<double>& out) {
  for (size_t i = 0; i < out.size(); ++i) {
    T v;
    std::memcpy(&v, raw.data() + i * sizeof(T), sizeof(T));
    out[i] = double(v);
  }
}

// IEEE 754 binary16 -> double, exactly (subnormals, infinities and NaN included).
double half_to_double(uint16_t h) {
  const int sign = h >> 15, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  double v;
  if (exponent == 0) v = std::ldexp(double(mantissa), -24);
  else if (exponent == 31) v = mantissa ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
  else v = std::ldexp(double(mantissa | 0x400), exponent - 25);
  return sign ? -v : v;
}

void convert_half(std::string_view raw, std::vector<double>& out) {
  for (size_t i = 0; i < out.size(); ++i) {
    uint16_t h;
    std::memcpy(&h, raw.data() + i * 2, 2);
    out[i] = half_to_double(h);
  }
}

std::string shape_text(const std::vector<size_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += std::to_string(shape[i]) + (shape.size() == 1 || i + 1 < shape.size() ? "," : "");
  return s + ")";
}

std::string encode_raw(const std::vector<size_t>& shape, const std::string& descr, std::string_view raw, int version) {
  if (version < 1 || version > 3) throw_internal("encode_npy: version must be 1, 2 or 3");
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < shape.size(); ++i) dict += std::to_string(shape[i]) + (shape.size() == 1 ? "," : i + 1 < shape.size() ? ", " : "");
  dict += "), }";
  // Pad with spaces so magic + version + length + header is a multiple of 64, ending in '\n'.
  const size_t length_bytes = version == 1 ? 2 : 4;
  const size_t unpadded = kMagic.size() + 2 + length_bytes + dict.size() + 1;
  dict.append((64 - unpadded % 64) % 64, ' ');
  dict += '\n';
  std::string out(kMagic);
  out += char(version);
  out += char(0);
  if (version == 1 && dict.size() > 65535) throw_internal("encode_npy: header too long");
  for (size_t b = 0; b < length_bytes; ++b) out += char((dict.size() >> (8 * b)) & 0xff);
  out += dict;
  out.append(raw);
  return out;
}

template <class T>
std::string encode(const std::vector<size_t>& shape, const T* data, const char* descr) {
  size_t n = 1;
  for (size_t d : shape) n *= d;
  return encode_raw(shape, descr, std::string_view(reinterpret_cast<const char*>(data), n * sizeof(T)), 1);
}

}  // namespace

NpyArray parse_npy(std::string_view bytes, const std::string& where) {
  ByteReader r(bytes, where);
  if (bytes.size() < kMagic.size() || bytes.substr(0, kMagic.size()) != kMagic)
    r.fail("not a .npy file (expected the magic \\x93NUMPY at the start)");
  r.read_bytes(kMagic.size(), "magic");
  const auto major = r.read<uint8_t>("version major");
  const auto minor = r.read<uint8_t>("version minor");
  size_t header_len = 0;
  if (major == 1) {
    header_len = r.read<uint16_t>("header length");
  } else if (major == 2 || major == 3) {
    header_len = r.read<uint32_t>("header length");
  } else {
    r.fail("unsupported .npy format version " + std::to_string(major) + "." + std::to_string(minor) +
           " (expected 1.0, 2.0 or 3.0)");
  }
  const std::string_view header = r.read_bytes(header_len, "header");

  NpyArray a;
  bool fortran = false;
  HeaderParser(header, where).parse(a.dtype, fortran, a.shape);
  if (fortran)
    throw_bad_input(where, "fortran_order arrays are not supported (expected C order; save with np.ascontiguousarray)");

  struct Type {
    const char* descr;
    size_t size;
  };
  // '<' little-endian, '|' not applicable (one byte), '=' native (little-endian on every
  // machine the engine builds for).
  static constexpr std::array<Type, 10> kTypes = {{{"f8", 8}, {"f4", 4}, {"f2", 2}, {"i8", 8}, {"i4", 4},
                                                   {"i2", 2}, {"i1", 1}, {"u8", 8}, {"u4", 4}, {"u2", 2}}};
  static constexpr std::array<Type, 2> kByteTypes = {{{"u1", 1}, {"b1", 1}}};
  size_t item = 0;
  std::string code;  // dtype without the byte-order character
  if (a.dtype.size() >= 2 && (a.dtype[0] == '<' || a.dtype[0] == '|' || a.dtype[0] == '=')) {
    code = a.dtype.substr(1);
    for (const auto& t : kTypes)
      if (code == t.descr && (a.dtype[0] != '|' || t.size == 1)) item = t.size;
    for (const auto& t : kByteTypes)
      if (code == t.descr) item = t.size;
  }
  if (item == 0) {
    if (!a.dtype.empty() && a.dtype[0] == '>')
      throw_bad_input(where, "big-endian dtype '" + a.dtype + "' is not supported (expected little-endian)");
    throw_bad_input(where, "dtype '" + a.dtype +
                               "' is not supported (expected little-endian f8, f4, f2, i8, i4, i2, i1, u8, u4, u2, u1 or b1)");
  }

  // Element count, checked against the bytes present before allocating anything.
  size_t count = 1;
  for (size_t d : a.shape) {
    if (d != 0 && count > std::numeric_limits<size_t>::max() / d) r.fail("shape " + shape_text(a.shape) + " overflows");
    count *= d;
  }
  if (count > std::numeric_limits<size_t>::max() / item) r.fail("shape " + shape_text(a.shape) + " overflows");
  if (count * item != r.remaining())
    r.fail("shape " + shape_text(a.shape) + " of " + a.dtype + " needs " + std::to_string(count * item) +
           " data bytes, found " + std::to_string(r.remaining()));
  const std::string_view raw = r.read_bytes(count * item, "array data");
  a.data.resize(count);
  if (code == "f8") convert<double>(raw, a.data);
  else if (code == "f4") convert<float>(raw, a.data);
  else if (code == "f2") convert_half(raw, a.data);
  else if (code == "i8") convert<int64_t>(raw, a.data);
  else if (code == "i4") convert<int32_t>(raw, a.data);
  else if (code == "i2") convert<int16_t>(raw, a.data);
  else if (code == "i1") convert<int8_t>(raw, a.data);
  else if (code == "u8") convert<uint64_t>(raw, a.data);
  else if (code == "u4") convert<uint32_t>(raw, a.data);
  else if (code == "u2") convert<uint16_t>(raw, a.data);
  else convert<uint8_t>(raw, a.data);
  return a;
}

NpyArray read_npy(const std::string& path) { return parse_npy(read_file(path), path); }

std::string encode_npy_bytes(const std::vector<size_t>& shape, const std::string& descr, std::string_view raw,
                             int version) {
  return encode_raw(shape, descr, raw, version);
}

std::string encode_npy(const std::vector<size_t>& shape, const float* data) { return encode(shape, data, "<f4"); }
std::string encode_npy(const std::vector<size_t>& shape, const double* data) { return encode(shape, data, "<f8"); }

void write_npy(const std::string& path, const std::vector<size_t>& shape, const float* data) {
  write_text_atomic(path, encode_npy(shape, data));
}
void write_npy(const std::string& path, const std::vector<size_t>& shape, const double* data) {
  write_text_atomic(path, encode_npy(shape, data));
}

// ---- .npz: a zip archive of .npy entries ----
namespace {

uint32_t crc32(std::string_view s) {
  static const auto table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
      t[i] = c;
    }
    return t;
  }();
  uint32_t c = 0xffffffffu;
  for (unsigned char b : s) c = table[(c ^ b) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

// Replaces 0xFFFFFFFF sizes/offset of a central directory entry by the zip64 extra field's values.
void apply_zip64_extra(std::string_view extra, uint64_t& usize, uint64_t& csize, uint64_t& offset, const ByteReader& at) {
  ByteReader e(extra, at.where());
  while (e.remaining() >= 4) {
    const auto id = e.read<uint16_t>("extra field id");
    const auto len = e.read<uint16_t>("extra field length");
    ByteReader f(e.read_bytes(len, "extra field"), at.where());
    if (id != 0x0001) continue;
    if (usize == 0xffffffffu) usize = f.read<uint64_t>("zip64 size");
    if (csize == 0xffffffffu) csize = f.read<uint64_t>("zip64 compressed size");
    if (offset == 0xffffffffu) offset = f.read<uint64_t>("zip64 offset");
    return;
  }
}

}  // namespace

std::map<std::string, NpyArray> parse_npz(std::string_view bytes, const std::string& where) {
  ByteReader whole(bytes, where);
  // End of central directory record: 22 bytes + a comment of up to 65535 bytes at the end.
  constexpr std::string_view kEocd("PK\x05\x06", 4);
  if (bytes.size() < 22) whole.fail("not a zip archive (too short for an end-of-central-directory record)");
  size_t eocd = std::string_view::npos;
  const size_t lowest = bytes.size() >= 22 + 65535 ? bytes.size() - 22 - 65535 : 0;
  for (size_t p = bytes.size() - 22 + 1; p-- > lowest;)
    if (bytes.substr(p, 4) == kEocd) {
      eocd = p;
      break;
    }
  if (eocd == std::string_view::npos) whole.fail("not a zip archive (no end-of-central-directory record)");
  ByteReader e(bytes.substr(eocd), where);
  e.read<uint32_t>("signature");
  e.read<uint16_t>("disk number");
  e.read<uint16_t>("central directory disk");
  e.read<uint16_t>("entries on disk");
  uint64_t entries = e.read<uint16_t>("entry count");
  uint64_t cd_size = e.read<uint32_t>("central directory size");
  uint64_t cd_offset = e.read<uint32_t>("central directory offset");
  if (entries == 0xffff || cd_size == 0xffffffffu || cd_offset == 0xffffffffu) {
    // Zip64: a locator 20 bytes before the record points at the zip64 end record.
    if (eocd < 20) whole.fail("zip64 archive without a zip64 locator");
    ByteReader loc(bytes.substr(eocd - 20, 20), where);
    if (loc.read<uint32_t>("zip64 locator signature") != 0x07064b50u) whole.fail("zip64 archive without a zip64 locator");
    loc.read<uint32_t>("disk");
    const auto z64 = loc.read<uint64_t>("zip64 end record offset");
    if (z64 >= bytes.size()) whole.fail("zip64 end record offset " + std::to_string(z64) + " is past the end");
    ByteReader z(bytes.substr(size_t(z64)), where);
    if (z.read<uint32_t>("zip64 end record signature") != 0x06064b50u) whole.fail("bad zip64 end record signature");
    z.read<uint64_t>("record size");
    z.read<uint16_t>("version made by");
    z.read<uint16_t>("version needed");
    z.read<uint32_t>("disk");
    z.read<uint32_t>("central directory disk");
    z.read<uint64_t>("entries on disk");
    entries = z.read<uint64_t>("entry count");
    cd_size = z.read<uint64_t>("central directory size");
    cd_offset = z.read<uint64_t>("central directory offset");
  }
  if (cd_offset > bytes.size() || cd_size > bytes.size() - cd_offset)
    whole.fail("central directory (offset " + std::to_string(cd_offset) + ", size " + std::to_string(cd_size) +
               ") lies outside the file");
  ByteReader cd(bytes.substr(size_t(cd_offset), size_t(cd_size)), where);
  cd.check_count(entries, 46, "zip entry");

  std::map<std::string, NpyArray> out;
  for (uint64_t i = 0; i < entries; ++i) {
    if (cd.read<uint32_t>("central directory signature") != 0x02014b50u)
      cd.fail("bad central directory entry signature in entry " + std::to_string(i));
    cd.read<uint16_t>("version made by");
    cd.read<uint16_t>("version needed");
    const auto flags = cd.read<uint16_t>("flags");
    const auto method = cd.read<uint16_t>("compression method");
    cd.read<uint32_t>("modification time");
    const auto crc = cd.read<uint32_t>("crc32");
    uint64_t csize = cd.read<uint32_t>("compressed size");
    uint64_t usize = cd.read<uint32_t>("size");
    const auto name_len = cd.read<uint16_t>("name length");
    const auto extra_len = cd.read<uint16_t>("extra length");
    const auto comment_len = cd.read<uint16_t>("comment length");
    cd.read<uint16_t>("disk");
    cd.read<uint16_t>("internal attributes");
    cd.read<uint32_t>("external attributes");
    uint64_t offset = cd.read<uint32_t>("local header offset");
    const std::string name(cd.read_bytes(name_len, "entry name"));
    apply_zip64_extra(cd.read_bytes(extra_len, "extra field"), usize, csize, offset, cd);
    cd.read_bytes(comment_len, "entry comment");
    const std::string entry = where + ":" + name;
    if (flags & 1u) throw_bad_input(entry, "entry is encrypted");
    if (method == 8)
      throw_bad_input(entry, "entry is deflate-compressed (np.savez_compressed); only np.savez archives with stored "
                             "entries are supported");
    if (method != 0) throw_bad_input(entry, "unsupported zip compression method " + std::to_string(method));
    if (csize != usize) throw_bad_input(entry, "stored entry sizes disagree (" + std::to_string(csize) + " vs " + std::to_string(usize) + ")");
    if (offset >= bytes.size()) throw_bad_input(entry, "local header offset " + std::to_string(offset) + " is past the end");
    ByteReader local(bytes.substr(size_t(offset)), entry);
    if (local.read<uint32_t>("local header signature") != 0x04034b50u) local.fail("bad local header signature");
    local.read_bytes(22, "local header");
    const auto lname = local.read<uint16_t>("local name length");
    const auto lextra = local.read<uint16_t>("local extra length");
    local.read_bytes(size_t(lname) + lextra, "local name and extra field");
    if (usize > local.remaining()) local.fail("entry data (" + std::to_string(usize) + " bytes) runs past the end");
    const std::string_view data = local.read_bytes(size_t(usize), "entry data");
    if (crc32(data) != crc) throw_bad_input(entry, "CRC mismatch: the archive is corrupt");
    std::string key = name;
    if (key.size() > 4 && key.compare(key.size() - 4, 4, ".npy") == 0) key.resize(key.size() - 4);
    if (out.count(key)) throw_bad_input(entry, "duplicate array name '" + key + "'");
    out.emplace(key, parse_npy(data, entry));
  }
  return out;
}

std::map<std::string, NpyArray> read_npz(const std::string& path) { return parse_npz(read_file(path), path); }

std::string encode_npz(const std::vector<std::pair<std::string, std::string>>& entries) {
  const auto put16 = [](std::string& s, uint16_t v) { s.append(reinterpret_cast<const char*>(&v), 2); };
  const auto put32 = [](std::string& s, uint32_t v) { s.append(reinterpret_cast<const char*>(&v), 4); };
  std::string out, cd;
  for (const auto& [key, data] : entries) {
    const std::string name = key + ".npy";
    if (data.size() >= 0xffffffffu || out.size() >= 0xffffffffu || name.size() > 0xffff)
      throw_internal("encode_npz: entry too large for a zip32 archive");
    const uint32_t crc = crc32(data), offset = uint32_t(out.size());
    // Local header: version 2.0, no flags, stored, zero time/date.
    put32(out, 0x04034b50u);
    put16(out, 20);
    put16(out, 0);
    put16(out, 0);
    put32(out, 0);
    put32(out, crc);
    put32(out, uint32_t(data.size()));
    put32(out, uint32_t(data.size()));
    put16(out, uint16_t(name.size()));
    put16(out, 0);
    out += name;
    out += data;
    put32(cd, 0x02014b50u);
    put16(cd, 20);
    put16(cd, 20);
    put16(cd, 0);
    put16(cd, 0);
    put32(cd, 0);
    put32(cd, crc);
    put32(cd, uint32_t(data.size()));
    put32(cd, uint32_t(data.size()));
    put16(cd, uint16_t(name.size()));
    put16(cd, 0);
    put16(cd, 0);
    put16(cd, 0);
    put16(cd, 0);
    put32(cd, 0);
    put32(cd, offset);
    cd += name;
  }
  if (entries.size() > 0xffff || out.size() + cd.size() >= 0xffffffffu) throw_internal("encode_npz: archive too large");
  const uint32_t cd_offset = uint32_t(out.size());
  out += cd;
  put32(out, 0x06054b50u);
  put16(out, 0);
  put16(out, 0);
  put16(out, uint16_t(entries.size()));
  put16(out, uint16_t(entries.size()));
  put32(out, uint32_t(cd.size()));
  put32(out, cd_offset);
  put16(out, 0);
  return out;
}

void write_npz(const std::string& path, const std::vector<std::pair<std::string, std::string>>& entries) {
  write_text_atomic(path, encode_npz(entries));
}

}  // namespace sp
