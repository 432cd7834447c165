#pragma once
// NumPy .npy arrays (format versions 1.0, 2.0, 3.0) and .npz archives written by np.savez.
// Supported element types (little-endian '<', or '|'/'=' where NumPy writes them): float64,
// float32, float16 ('<f2'), int64/32/16/8, uint64/32/16/8 and bool, C order only. Values come
// back converted to double (exact for every supported type except 64-bit integers beyond 2^53).
// np.savez_compressed archives (deflate entries) are refused with a clear message: the
// engine has no inflate dependency, and every .npz in our data is stored uncompressed.
#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sp {

struct NpyArray {
  std::string dtype;          // as written in the header, e.g. "<f8", "|u1"
  std::vector<size_t> shape;  // empty for a 0-d (scalar) array
  std::vector<double> data;   // C (row-major) order

  size_t size() const { return data.size(); }
  size_t ndim() const { return shape.size(); }
  std::vector<float> to_float() const { return std::vector<float>(data.begin(), data.end()); }
};

// Parses .npy bytes; `where` names the source in errors (BadInput on any problem: bad magic,
// unsupported version or dtype, fortran_order, a shape that does not match the data size).
NpyArray parse_npy(std::string_view bytes, const std::string& where);
NpyArray read_npy(const std::string& path);

// .npy bytes of any dtype from its raw little-endian element bytes, in format `version`
// (1, 2 or 3; header padded to 64 bytes, as NumPy writes it). The caller supplies raw of the
// right size; used to write LangSplat-style inputs in tests and float16/int data.
std::string encode_npy_bytes(const std::vector<size_t>& shape, const std::string& descr, std::string_view raw,
                             int version = 1);
// Format 1.0 .npy bytes (header padded to 64 bytes, as NumPy writes it).
std::string encode_npy(const std::vector<size_t>& shape, const float* data);
std::string encode_npy(const std::vector<size_t>& shape, const double* data);
// Writes atomically (temporary file + rename). `data` holds product(shape) values.
void write_npy(const std::string& path, const std::vector<size_t>& shape, const float* data);
void write_npy(const std::string& path, const std::vector<size_t>& shape, const double* data);

// The arrays of an .npz archive by name ("means3d.npy" -> "means3d").
std::map<std::string, NpyArray> parse_npz(std::string_view bytes, const std::string& where);
std::map<std::string, NpyArray> read_npz(const std::string& path);
// An .npz archive (stored entries, as np.savez) of named .npy byte strings (encode_npy);
// ".npy" is appended to each name. write_npz writes it atomically.
std::string encode_npz(const std::vector<std::pair<std::string, std::string>>& entries);
void write_npz(const std::string& path, const std::vector<std::pair<std::string, std::string>>& entries);

}  // namespace sp
