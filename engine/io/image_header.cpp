#include "engine/io/image_header.h"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include "engine/core/atomic_file.h"
#include "engine/core/error.h"
#include "engine/core/memory_budget.h"

// Declarations only: the stb implementation is compiled once, in image_io.cpp.
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#endif
#include <stb_image.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

namespace sp {

ImageInfo read_image_header(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) throw_bad_input(path, "no such image file");
  // Only regular files: a FIFO or device named like an image must not block the loader.
  if (!fs::is_regular_file(path, ec)) throw_bad_input(path, "not a regular file (expected an image)");
  // stb reads the header from the bytes the JPEG guard checked: the first 256 KiB (headers end
  // long before that), or the whole file when its header lies further in.
  const auto info_of = [&](const std::string& bytes, ImageInfo& info) {
    check_jpeg_huffman_tables(bytes, path);
    const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
    if (!stbi_info_from_memory(data, int(bytes.size()), &info.width, &info.height, &info.channels)) return false;
    check_image_size(info, path, stbi_is_16_bit_from_memory(data, int(bytes.size())) ? 2 : 1);
    return true;
  };
  constexpr size_t kPrefix = size_t(256) << 10;
  std::string head(kPrefix, '\0');
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_bad_input(path, "cannot open the image file");
  in.read(head.data(), std::streamsize(head.size()));
  head.resize(size_t(in.gcount()));
  ImageInfo info;
  if (info_of(head, info)) return info;
  if (head.size() == kPrefix) {
    const std::string all = read_file(path);
    if (all.size() > size_t(std::numeric_limits<int>::max())) throw_bad_input(path, "image file is larger than 2 GiB");
    if (info_of(all, info)) return info;
  }
  throw_bad_input(path, std::string("not a readable image (") + stbi_failure_reason() + ")");
}

// Debian 12's stb_image (2.27) trusts a JPEG Huffman table's code counts: a DHT segment
// whose 16 counts sum past 256 writes past stbi__huffman's arrays (heap overflow; found by
// fuzz/targets/image_decode, fixed upstream in 2.28). Walks the file's markers as stb does
// (segments up to each scan, the entropy-coded data up to the next marker) and refuses such
// a table before stb sees it. Anything else malformed is left to stb to reject.
void check_jpeg_huffman_tables(std::string_view b, const std::string& where) {
  if (b.size() < 4 || uint8_t(b[0]) != 0xff || uint8_t(b[1]) != 0xd8) return;  // not a JPEG
  // stb reads 0 past the end of its input.
  const auto byte = [&](size_t at) { return at < b.size() ? uint8_t(b[at]) : uint8_t(0); };
  size_t pos = 2;
  while (pos < b.size()) {
    // stb skips padding between segments while looking for the header's markers; skipping it
    // everywhere sees every marker stb could act on.
    while (pos < b.size() && byte(pos) != 0xff) ++pos;
    while (pos < b.size() && byte(pos) == 0xff) ++pos;  // fill bytes
    if (pos >= b.size()) return;
    const uint8_t m = byte(pos++);
    if (m == 0xd9) return;                                // EOI
    if (m == 0x01 || (m >= 0xd0 && m <= 0xd8)) continue;  // markers without a length
    const size_t end = pos + ((size_t(byte(pos)) << 8) | byte(pos + 1));  // the length counts itself
    if (m == 0xc4) {
      // One or more tables (class/id, 16 code counts, the symbols) while stb's count of the
      // segment's bytes stays positive, reading zeros past the end of the input as it does.
      for (size_t t = pos + 2; t < end;) {
        size_t n = 0;
        for (size_t i = 1; i <= 16; ++i) n += byte(t + i);
        if (n > 256)
          throw_bad_input(where, "corrupt JPEG: a Huffman table of " + std::to_string(n) + " codes (at most 256)");
        t += 17 + n;
      }
    }
    pos = end;
    if (m == 0xda) {  // a scan: entropy-coded bytes up to the next marker (FF 00 is a stuffed byte)
      while (pos + 1 < b.size() && !(byte(pos) == 0xff && byte(pos + 1) != 0 && !(byte(pos + 1) >= 0xd0 && byte(pos + 1) <= 0xd7)))
        ++pos;
    }
  }
}

void check_png_chunk_lengths(std::string_view b, const std::string& where) {
  static const char kSignature[] = "\x89PNG\r\n\x1a\n";
  if (b.size() < 8 || b.compare(0, 8, std::string_view(kSignature, 8)) != 0) return;  // not a PNG
  // Chunks: 4-byte big-endian length, 4-byte type, the data, a 4-byte CRC; IEND ends them.
  for (size_t pos = 8; pos + 8 <= b.size();) {
    const uint64_t len = uint64_t(uint8_t(b[pos])) << 24 | uint64_t(uint8_t(b[pos + 1])) << 16 |
                         uint64_t(uint8_t(b[pos + 2])) << 8 | uint8_t(b[pos + 3]);
    const std::string type(b.substr(pos + 4, 4));
    if (len + 12 > b.size() - pos)
      throw_bad_input(where, "corrupt PNG: chunk " + type + " at byte " + std::to_string(pos) + " claims " +
                                 std::to_string(len) + " bytes, the file has " + std::to_string(b.size() - pos - 8) +
                                 " more");
    if (type == "IEND") return;
    pos += size_t(len) + 12;
  }
}

void check_image_size(const ImageInfo& info, const std::string& where, int bytes_per_channel) {
  if (info.width <= 0 || info.height <= 0) throw_bad_input(where, "image has no pixels");
  const size_t values = saturating_mul(saturating_mul(size_t(info.width), size_t(info.height)), size_t(std::max(info.channels, 1)));
  // The decoder's buffer and the float image the engine keeps.
  check_memory(saturating_mul(values, size_t(bytes_per_channel) + sizeof(float)), where,
               "decoding the " + std::to_string(info.width) + "x" + std::to_string(info.height) + " image");
}

}  // namespace sp
