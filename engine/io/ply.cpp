#include "engine/io/ply.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <ostream>
#include <string_view>

#include "engine/core/atomic_file.h"
#include "engine/core/error.h"

namespace sp::ply {

size_t type_size(Type type) {
  switch (type) {
    case Type::Int8:
    case Type::UInt8: return 1;
    case Type::Int16:
    case Type::UInt16: return 2;
    case Type::Int32:
    case Type::UInt32:
    case Type::Float32: return 4;
    case Type::Float64: return 8;
  }
  return 0;
}

const char* type_name(Type type) {
  switch (type) {
    case Type::Int8: return "char";
    case Type::UInt8: return "uchar";
    case Type::Int16: return "short";
    case Type::UInt16: return "ushort";
    case Type::Int32: return "int";
    case Type::UInt32: return "uint";
    case Type::Float32: return "float";
    case Type::Float64: return "double";
  }
  return "?";
}

int Element::find(const std::string& n) const {
  for (size_t i = 0; i < properties.size(); ++i)
    if (properties[i].name == n) return int(i);
  return -1;
}

int Header::find(const std::string& n) const {
  for (size_t i = 0; i < elements.size(); ++i)
    if (elements[i].name == n) return int(i);
  return -1;
}

namespace {

constexpr bool kHostLittle = std::endian::native == std::endian::little;

bool parse_type(std::string_view s, Type& t) {
  static const std::pair<std::string_view, Type> names[] = {
      {"char", Type::Int8},     {"int8", Type::Int8},       {"uchar", Type::UInt8},    {"uint8", Type::UInt8},
      {"short", Type::Int16},   {"int16", Type::Int16},     {"ushort", Type::UInt16},  {"uint16", Type::UInt16},
      {"int", Type::Int32},     {"int32", Type::Int32},     {"uint", Type::UInt32},    {"uint32", Type::UInt32},
      {"float", Type::Float32}, {"float32", Type::Float32}, {"double", Type::Float64}, {"float64", Type::Float64}};
  for (const auto& [name, type] : names)
    if (s == name) {
      t = type;
      return true;
    }
  return false;
}

bool is_integer(Type t) { return t != Type::Float32 && t != Type::Float64; }

std::vector<std::string_view> split_words(std::string_view line) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
    if (j > i) words.push_back(line.substr(i, j - i));
    i = j;
  }
  return words;
}

// Reads one value of type t stored at p in host byte order.
double load(const uint8_t* p, Type t) {
  switch (t) {
    case Type::Int8: { int8_t v; std::memcpy(&v, p, 1); return v; }
    case Type::UInt8: return *p;
    case Type::Int16: { int16_t v; std::memcpy(&v, p, 2); return v; }
    case Type::UInt16: { uint16_t v; std::memcpy(&v, p, 2); return v; }
    case Type::Int32: { int32_t v; std::memcpy(&v, p, 4); return v; }
    case Type::UInt32: { uint32_t v; std::memcpy(&v, p, 4); return v; }
    case Type::Float32: { float v; std::memcpy(&v, p, 4); return v; }
    case Type::Float64: { double v; std::memcpy(&v, p, 8); return v; }
  }
  return 0.0;
}

// Stores v (already checked to fit) as type t at p in host byte order.
void store(uint8_t* p, Type t, double v) {
  switch (t) {
    case Type::Int8: { int8_t x = int8_t(v); std::memcpy(p, &x, 1); break; }
    case Type::UInt8: { uint8_t x = uint8_t(v); std::memcpy(p, &x, 1); break; }
    case Type::Int16: { int16_t x = int16_t(v); std::memcpy(p, &x, 2); break; }
    case Type::UInt16: { uint16_t x = uint16_t(v); std::memcpy(p, &x, 2); break; }
    case Type::Int32: { int32_t x = int32_t(v); std::memcpy(p, &x, 4); break; }
    case Type::UInt32: { uint32_t x = uint32_t(v); std::memcpy(p, &x, 4); break; }
    case Type::Float32: {
      // A finite double beyond float range converts to +-inf explicitly (the cast is UB).
      const float x = std::abs(v) > double(std::numeric_limits<float>::max()) && std::isfinite(v)
                          ? std::copysign(std::numeric_limits<float>::infinity(), float(v > 0 ? 1 : -1))
                          : float(v);
      std::memcpy(p, &x, 4);
      break;
    }
    case Type::Float64: std::memcpy(p, &v, 8); break;
  }
}

void swap_bytes(uint8_t* p, size_t n) { std::reverse(p, p + n); }

std::string plural(size_t n, const char* what) { return std::to_string(n) + " " + what + (n == 1 ? "" : "s"); }

}  // namespace

Header parse_header(const std::string& bytes, const std::string& where) {
  Header h;
  size_t pos = 0;
  int line_no = 0;
  bool have_format = false, ended = false;
  auto next_line = [&](std::string_view& line) {
    if (pos >= bytes.size()) return false;
    const size_t nl = bytes.find('\n', pos);
    if (nl == std::string::npos) return false;  // a header line must end with a newline
    line = std::string_view(bytes).substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = nl + 1;
    ++line_no;
    return true;
  };
  auto fail = [&](const std::string& what) { throw_bad_input(where, "PLY header line " + std::to_string(line_no) + ": " + what); };

  std::string_view line;
  if (bytes.size() < 3 || bytes.compare(0, 3, "ply") != 0 || !next_line(line) || line != "ply")
    throw_bad_input(where, "not a PLY file (does not start with a \"ply\" line)");
  while (next_line(line)) {
    const auto words = split_words(line);
    if (words.empty()) continue;
    const std::string_view key = words[0];
    if (key == "end_header") {
      ended = true;
      break;
    }
    if (key == "comment" || key == "obj_info") {
      const size_t start = line.find(key) + key.size();
      std::string_view text = line.substr(std::min(line.size(), start));
      while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
      h.comments.emplace_back(text);
    } else if (key == "format") {
      if (words.size() != 3) fail("expected \"format <type> 1.0\"");
      if (words[1] == "ascii") h.format = Format::Ascii;
      else if (words[1] == "binary_little_endian") h.format = Format::BinaryLittleEndian;
      else if (words[1] == "binary_big_endian") h.format = Format::BinaryBigEndian;
      else fail("unknown format \"" + std::string(words[1]) + "\"");
      if (words[2] != "1.0" && words[2] != "1") fail("unsupported PLY version " + std::string(words[2]) + " (expected 1.0)");
      have_format = true;
    } else if (key == "element") {
      if (words.size() != 3) fail("expected \"element <name> <count>\"");
      Element e;
      e.name = std::string(words[1]);
      uint64_t count = 0;
      const auto [p, ec] = std::from_chars(words[2].data(), words[2].data() + words[2].size(), count);
      if (ec != std::errc() || p != words[2].data() + words[2].size())
        fail("element " + e.name + ": count \"" + std::string(words[2]) + "\" is not a non-negative integer");
      if (h.find(e.name) >= 0) fail("element " + e.name + " declared twice");
      e.count = size_t(count);
      h.elements.push_back(std::move(e));
    } else if (key == "property") {
      if (h.elements.empty()) fail("property before any element");
      Element& e = h.elements.back();
      Property prop;
      if (words.size() >= 2 && words[1] == "list") {
        if (words.size() != 5) fail("expected \"property list <count type> <item type> <name>\"");
        prop.is_list = true;
        if (!parse_type(words[2], prop.count_type)) fail("unknown type \"" + std::string(words[2]) + "\"");
        if (!is_integer(prop.count_type)) fail("list length type must be an integer type, not " + std::string(words[2]));
        if (!parse_type(words[3], prop.type)) fail("unknown type \"" + std::string(words[3]) + "\"");
        prop.name = std::string(words[4]);
      } else {
        if (words.size() != 3) fail("expected \"property <type> <name>\"");
        if (!parse_type(words[1], prop.type)) fail("unknown type \"" + std::string(words[1]) + "\"");
        prop.name = std::string(words[2]);
      }
      if (e.find(prop.name) >= 0) fail("element " + e.name + ": property " + prop.name + " declared twice");
      e.properties.push_back(std::move(prop));
    } else {
      fail("unknown keyword \"" + std::string(key) + "\"");
    }
  }
  if (!ended) throw_bad_input(where, "PLY header has no end_header line (file truncated?)");
  if (!have_format) throw_bad_input(where, "PLY header has no format line");
  h.data_offset = pos;
  return h;
}

struct PlyData::Impl {
  std::string where;
  std::string bytes;  // the whole file; zero-copy elements point into it
  Header header;
  struct ElementData {
    const uint8_t* rows = nullptr;  // count x stride bytes, host byte order
    std::vector<uint8_t> own;       // backing store when rows could not point into `bytes`
    size_t stride = 0;
    std::vector<size_t> offset;  // per property: byte offset in a row (scalars only)
    std::vector<List> lists;     // per property (lists only)
  };
  std::vector<ElementData> data;

  [[noreturn]] void fail(const std::string& what) const { throw_bad_input(where, what); }

  void parse_binary(const ReadOptions& options);
  void parse_ascii(const ReadOptions& options);

  // Looks up a scalar property; BadInput if missing or a list.
  std::pair<size_t, size_t> scalar(const std::string& element, const std::string& property) const {
    const int e = header.find(element);
    if (e < 0) fail("no element \"" + element + "\" in the PLY file");
    const int p = header.elements[size_t(e)].find(property);
    if (p < 0) fail("element " + element + " has no property \"" + property + "\"");
    if (header.elements[size_t(e)].properties[size_t(p)].is_list)
      fail("property " + element + "." + property + " is a list, expected a scalar");
    return {size_t(e), size_t(p)};
  }
};

namespace {
// Row layout shared by both parsers: scalar properties packed in declaration order.
void layout(const Element& e, PlyData::Impl::ElementData& d) {
  d.offset.assign(e.properties.size(), 0);
  d.lists.resize(e.properties.size());
  d.stride = 0;
  for (size_t i = 0; i < e.properties.size(); ++i)
    if (!e.properties[i].is_list) {
      d.offset[i] = d.stride;
      d.stride += type_size(e.properties[i].type);
    }
}
}  // namespace

void PlyData::Impl::parse_binary(const ReadOptions& options) {
  const bool swap = (header.format == Format::BinaryLittleEndian) != kHostLittle;
  const uint8_t* base = reinterpret_cast<const uint8_t*>(bytes.data());
  size_t pos = header.data_offset;
  const size_t end = bytes.size();
  data.resize(header.elements.size());
  for (size_t ei = 0; ei < header.elements.size(); ++ei) {
    const Element& e = header.elements[ei];
    ElementData& d = data[ei];
    layout(e, d);
    bool has_lists = false;
    size_t min_row = 0;  // bytes a row needs at least (lists empty)
    for (const Property& p : e.properties) {
      has_lists |= p.is_list;
      min_row += p.is_list ? type_size(p.count_type) : type_size(p.type);
    }
    const size_t remaining = end - pos;
    // Check the declared count against the file size before allocating anything.
    if (min_row > 0 && e.count > remaining / min_row)
      fail("element " + e.name + " declares " + std::to_string(e.count) + " rows of " +
           (has_lists ? "at least " : "") + plural(min_row, "byte") + " but the file ends after " +
           std::to_string(remaining / min_row) + " (" + plural(remaining, "byte") + " left)");
    if (!has_lists) {
      if (!swap) {
        d.rows = base + pos;  // zero copy: the file bytes are the rows
      } else {
        d.own.assign(base + pos, base + pos + e.count * d.stride);
        for (size_t r = 0; r < e.count; ++r)
          for (size_t i = 0; i < e.properties.size(); ++i)
            swap_bytes(d.own.data() + r * d.stride + d.offset[i], type_size(e.properties[i].type));
        d.rows = d.own.data();
      }
      pos += e.count * d.stride;
      continue;
    }
    d.own.resize(e.count * d.stride);
    for (size_t i = 0; i < e.properties.size(); ++i)
      if (e.properties[i].is_list && options.read_lists) d.lists[i].offsets.assign(e.count + 1, 0);
    for (size_t r = 0; r < e.count; ++r) {
      for (size_t i = 0; i < e.properties.size(); ++i) {
        const Property& p = e.properties[i];
        if (!p.is_list) {
          const size_t s = type_size(p.type);
          if (end - pos < s) fail("element " + e.name + " row " + std::to_string(r) + ": file ends inside property " + p.name);
          uint8_t* dst = d.own.data() + r * d.stride + d.offset[i];
          std::memcpy(dst, base + pos, s);
          if (swap) swap_bytes(dst, s);
          pos += s;
          continue;
        }
        const size_t cs = type_size(p.count_type);
        if (end - pos < cs) fail("element " + e.name + " row " + std::to_string(r) + ": file ends inside list " + p.name);
        uint8_t tmp[8];
        std::memcpy(tmp, base + pos, cs);
        if (swap) swap_bytes(tmp, cs);
        pos += cs;
        const double n = load(tmp, p.count_type);
        const size_t is = type_size(p.type);
        if (n < 0 || n > double((end - pos) / is))
          fail("element " + e.name + " row " + std::to_string(r) + ": list " + p.name + " declares " +
               std::to_string(int64_t(n)) + " items but the file ends after " + std::to_string((end - pos) / is));
        const size_t count = size_t(n);
        if (options.read_lists) {
          List& list = d.lists[i];
          for (size_t k = 0; k < count; ++k) {
            std::memcpy(tmp, base + pos + k * is, is);
            if (swap) swap_bytes(tmp, is);
            list.values.push_back(load(tmp, p.type));
          }
          list.offsets[r + 1] = list.values.size();
        }
        pos += count * is;
      }
    }
    d.rows = d.own.data();
  }
  // Trailing bytes after the last element are tolerated (some writers pad the file).
}

void PlyData::Impl::parse_ascii(const ReadOptions& options) {
  const char* text = bytes.data();
  size_t pos = header.data_offset;
  const size_t end = bytes.size();
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  // Next whitespace-separated token; empty at the end of the file.
  auto token = [&]() -> std::string_view {
    while (pos < end && is_space(text[pos])) ++pos;
    const size_t start = pos;
    while (pos < end && !is_space(text[pos])) ++pos;
    return std::string_view(text + start, pos - start);
  };
  auto number = [&](Type t, const Element& e, size_t row, const std::string& prop) -> double {
    std::string_view tok = token();
    const std::string at = "element " + e.name + " row " + std::to_string(row) + " property " + prop;
    if (tok.empty()) fail(at + ": file ends early");
    if (tok.size() > 1 && tok[0] == '+') tok.remove_prefix(1);  // from_chars rejects a leading '+'
    const char* first = tok.data();
    const char* last = tok.data() + tok.size();
    if (is_integer(t)) {
      int64_t v = 0;
      const auto [p, ec] = std::from_chars(first, last, v);
      if (ec != std::errc() || p != last) fail(at + ": \"" + std::string(tok) + "\" is not an integer");
      static const std::pair<int64_t, int64_t> range[] = {
          {INT8_MIN, INT8_MAX}, {0, UINT8_MAX}, {INT16_MIN, INT16_MAX}, {0, UINT16_MAX}, {INT32_MIN, INT32_MAX}, {0, UINT32_MAX}};
      const auto [lo, hi] = range[size_t(t)];
      if (v < lo || v > hi) fail(at + ": " + std::string(tok) + " does not fit type " + type_name(t));
      return double(v);
    }
    double v = 0;
    const auto [p, ec] = std::from_chars(first, last, v);
    // Out-of-range magnitudes (1e999) become +-inf rather than an error; NaN/inf are
    // passed through so the caller decides (GaussianModel::validate rejects them).
    if (ec == std::errc::result_out_of_range && p == last) return std::strtod(std::string(tok).c_str(), nullptr);
    if (ec != std::errc() || p != last) fail(at + ": \"" + std::string(tok) + "\" is not a number");
    return v;
  };
  data.resize(header.elements.size());
  for (size_t ei = 0; ei < header.elements.size(); ++ei) {
    const Element& e = header.elements[ei];
    ElementData& d = data[ei];
    layout(e, d);
    // Each value takes at least one character and one separator, so a count the file
    // cannot hold is caught here, before the row buffer is allocated.
    const size_t remaining = end - pos;
    const size_t max_values = (remaining + 1) / 2;
    const size_t per_row = e.properties.size();
    if (per_row > 0 && e.count > max_values / per_row)
      fail("element " + e.name + " declares " + std::to_string(e.count) + " rows of " + plural(per_row, "value") +
           " but the rest of the file holds at most " + plural(max_values, "value"));
    d.own.resize(e.count * d.stride);
    d.rows = d.own.data();
    if (per_row == 0) continue;  // rows without properties hold no text (and may be countless)
    for (size_t i = 0; i < e.properties.size(); ++i)
      if (e.properties[i].is_list && options.read_lists) d.lists[i].offsets.assign(e.count + 1, 0);
    for (size_t r = 0; r < e.count; ++r) {
      for (size_t i = 0; i < e.properties.size(); ++i) {
        const Property& p = e.properties[i];
        if (!p.is_list) {
          store(d.own.data() + r * d.stride + d.offset[i], p.type, number(p.type, e, r, p.name));
          continue;
        }
        const double n = number(p.count_type, e, r, p.name);
        if (n < 0 || n > double((end - pos + 1) / 2))
          fail("element " + e.name + " row " + std::to_string(r) + ": list " + p.name + " declares " +
               std::to_string(int64_t(n)) + " items, more than the rest of the file holds");
        const size_t count = size_t(n);
        for (size_t k = 0; k < count; ++k) {
          const double v = number(p.type, e, r, p.name);
          if (options.read_lists) d.lists[i].values.push_back(v);
        }
        if (options.read_lists) d.lists[i].offsets[r + 1] = d.lists[i].values.size();
      }
    }
    d.rows = d.own.data();
  }
}

PlyData::PlyData() : impl_(std::make_unique<Impl>()) {}
PlyData::~PlyData() = default;
PlyData::PlyData(PlyData&&) noexcept = default;
PlyData& PlyData::operator=(PlyData&&) noexcept = default;

const Header& PlyData::header() const { return impl_->header; }
const std::string& PlyData::source() const { return impl_->where; }

const Element* PlyData::element(const std::string& name) const {
  const int e = impl_->header.find(name);
  return e < 0 ? nullptr : &impl_->header.elements[size_t(e)];
}

bool PlyData::has_property(const std::string& element, const std::string& property) const {
  const Element* e = this->element(element);
  return e && e->find(property) >= 0;
}

void PlyData::copy_floats(const std::string& element, const std::string& property, float* dst, size_t dst_stride,
                          size_t row_begin, size_t row_end) const {
  const auto [ei, pi] = impl_->scalar(element, property);
  const Impl::ElementData& d = impl_->data[ei];
  const size_t n = std::min(row_end, impl_->header.elements[ei].count);
  const Type t = impl_->header.elements[ei].properties[pi].type;
  if (row_begin >= n) return;  // no rows: d.rows may be null, and null + offset is undefined
  const uint8_t* src = d.rows + d.offset[pi];
  if (t == Type::Float32) {
    for (size_t r = row_begin; r < n; ++r) std::memcpy(dst + r * dst_stride, src + r * d.stride, sizeof(float));
  } else {
    for (size_t r = row_begin; r < n; ++r) dst[r * dst_stride] = float(load(src + r * d.stride, t));
  }
}

std::vector<float> PlyData::floats(const std::string& element, const std::string& property) const {
  const auto [ei, pi] = impl_->scalar(element, property);
  (void)pi;
  std::vector<float> out(impl_->header.elements[ei].count);
  copy_floats(element, property, out.data(), 1);
  return out;
}

std::vector<double> PlyData::doubles(const std::string& element, const std::string& property) const {
  const auto [ei, pi] = impl_->scalar(element, property);
  const Impl::ElementData& d = impl_->data[ei];
  const size_t n = impl_->header.elements[ei].count;
  const Type t = impl_->header.elements[ei].properties[pi].type;
  std::vector<double> out(n);
  for (size_t r = 0; r < n; ++r) out[r] = load(d.rows + r * d.stride + d.offset[pi], t);
  return out;
}

const PlyData::List& PlyData::list(const std::string& element, const std::string& property) const {
  const int e = impl_->header.find(element);
  if (e < 0) impl_->fail("no element \"" + element + "\" in the PLY file");
  const int p = impl_->header.elements[size_t(e)].find(property);
  if (p < 0) impl_->fail("element " + element + " has no property \"" + property + "\"");
  if (!impl_->header.elements[size_t(e)].properties[size_t(p)].is_list)
    impl_->fail("property " + element + "." + property + " is a scalar, expected a list");
  return impl_->data[size_t(e)].lists[size_t(p)];
}

PlyData read_ply_bytes(std::string bytes, const std::string& where, const ReadOptions& options) {
  PlyData out;
  PlyData::Impl& impl = *out.impl_;
  impl.where = where;
  impl.bytes = std::move(bytes);
  impl.header = parse_header(impl.bytes, where);
  if (impl.header.format == Format::Ascii)
    impl.parse_ascii(options);
  else
    impl.parse_binary(options);
  return out;
}

PlyData read_ply(const std::string& path, const ReadOptions& options) {
  return read_ply_bytes(read_file(path), path, options);
}

void write_ply(std::ostream& out, const std::vector<ElementOut>& elements, const std::vector<std::string>& comments) {
  std::string head = "ply\nformat binary_little_endian 1.0\n";
  for (const std::string& c : comments) {
    if (c.find('\n') != std::string::npos || c.find('\r') != std::string::npos)
      throw_internal("PLY comment contains a line break");
    head += "comment " + c + "\n";
  }
  for (const ElementOut& e : elements) {
    if (e.name.empty() || e.name.find_first_of(" \t\r\n") != std::string::npos)
      throw_internal("PLY element name \"" + e.name + "\" is empty or has whitespace");
    head += "element " + e.name + " " + std::to_string(e.count) + "\n";
    for (const Column& c : e.columns) {
      if (c.name.empty() || c.name.find_first_of(" \t\r\n") != std::string::npos)
        throw_internal("PLY property name \"" + c.name + "\" is empty or has whitespace");
      if (e.count > 0 && !c.data) throw_internal("PLY property " + c.name + " has no data");
      head += std::string("property ") + type_name(c.type) + " " + c.name + "\n";
    }
  }
  head += "end_header\n";
  out.write(head.data(), std::streamsize(head.size()));

  // Rows are gathered a block at a time so the stream sees a few large writes.
  std::vector<uint8_t> block;
  for (const ElementOut& e : elements) {
    size_t stride = 0;
    for (const Column& c : e.columns) stride += type_size(c.type);
    if (stride == 0) continue;
    const size_t rows_per_block = std::max<size_t>(1, (size_t(1) << 20) / stride);
    for (size_t r0 = 0; r0 < e.count; r0 += rows_per_block) {
      const size_t r1 = std::min(e.count, r0 + rows_per_block);
      block.resize((r1 - r0) * stride);
      uint8_t* dst = block.data();
      for (size_t r = r0; r < r1; ++r)
        for (const Column& c : e.columns) {
          const size_t s = type_size(c.type);
          std::memcpy(dst, static_cast<const uint8_t*>(c.data) + r * c.stride_bytes, s);
          if (!kHostLittle) swap_bytes(dst, s);
          dst += s;
        }
      out.write(reinterpret_cast<const char*>(block.data()), std::streamsize(block.size()));
    }
  }
}

void write_ply(const std::string& path, const std::vector<ElementOut>& elements, const std::vector<std::string>& comments) {
  write_file_atomic(path, [&](std::ostream& out) { write_ply(out, elements, comments); });
}

}  // namespace sp::ply
