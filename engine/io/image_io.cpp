#include "engine/io/image_io.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <vector>

#include "engine/core/atomic_file.h"
#include "engine/core/error.h"
#include "engine/core/memory_budget.h"
#include "engine/io/image_header.h"

namespace sp {
namespace {
// stb's buffers may grow with what a file's compressed data inflates to, not with its header:
// a deflate bomb (a 16x16 PNG whose IDAT inflates to gigabytes) would take as much memory as
// it asks for. While decode_image runs, every stb allocation is held to a cap derived from the
// header (twice the largest raw image the header allows, or the file's size, plus 1 MiB); a
// larger request fails, and stb reports it as out of memory. 0: no decode running, no cap.
thread_local size_t stb_allocation_cap = 0;
void* stb_malloc_capped(size_t bytes) {
  return stb_allocation_cap != 0 && bytes > stb_allocation_cap ? nullptr : std::malloc(bytes);
}
void* stb_realloc_capped(void* p, size_t bytes) {
  return stb_allocation_cap != 0 && bytes > stb_allocation_cap ? nullptr : std::realloc(p, bytes);
}
}  // namespace
}  // namespace sp
#define STBI_MALLOC(bytes) sp::stb_malloc_capped(bytes)
#define STBI_REALLOC(p, bytes) sp::stb_realloc_capped(p, bytes)
#define STBI_FREE(p) std::free(p)

#define STB_IMAGE_IMPLEMENTATION
#define STBI_FAILURE_USERMSG
// The formats datasets use; stb's other decoders (GIF, PSD, HDR, PIC, PNM) are attack
// surface nothing here needs.
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#define STBI_ONLY_TGA
#define STB_IMAGE_WRITE_IMPLEMENTATION
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#endif
#include <stb_image.h>
#include <stb_image_write.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

namespace sp {

ImageInfo read_image_info(const std::string& path) {
  const std::string bytes = read_file(path);
  if (bytes.size() > size_t(std::numeric_limits<int>::max())) throw_bad_input(path, "image file is larger than 2 GiB");
  check_jpeg_huffman_tables(bytes, path);
  ImageInfo info;
  if (!stbi_info_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()), int(bytes.size()), &info.width,
                             &info.height, &info.channels))
    throw_bad_input(path, std::string("not a readable image (") + stbi_failure_reason() + ")");
  return info;
}

Image load_image(const std::string& path, int channels) { return decode_image(read_file(path), path, channels); }

Image decode_image(std::string_view bytes, const std::string& path, int channels) {
  int w = 0, h = 0, n = 0;
  // stb takes an int length.
  if (bytes.size() > size_t(std::numeric_limits<int>::max())) throw_bad_input(path, "image file is larger than 2 GiB");
  check_jpeg_huffman_tables(bytes, path);
  check_png_chunk_lengths(bytes, path);
  const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
  // The header's size against the memory budget before stb allocates for it.
  ImageInfo info;
  if (!stbi_info_from_memory(data, int(bytes.size()), &info.width, &info.height, &info.channels))
    throw_bad_input(path, std::string("not a readable image (") + stbi_failure_reason() + ")");
  const bool wide = stbi_is_16_bit_from_memory(data, int(bytes.size()));
  if (channels > 0) info.channels = std::max(info.channels, channels);
  check_image_size(info, path, wide ? 2 : 1);
  // Raw PNG rows are at most 8 bytes per pixel (4 channels of 16 bits) plus a filter byte.
  struct CapGuard {
    explicit CapGuard(size_t cap) { stb_allocation_cap = cap; }
    ~CapGuard() { stb_allocation_cap = 0; }
  } cap(std::max(bytes.size(), 2 * size_t(info.height) * (1 + 8 * size_t(info.width))) + (size_t(1) << 20));
  Image img;
  if (wide) {
    std::unique_ptr<stbi_us, void (*)(void*)> px(stbi_load_16_from_memory(data, int(bytes.size()), &w, &h, &n, channels),
                                                 stbi_image_free);
    if (!px) throw_bad_input(path, std::string("cannot decode image (") + stbi_failure_reason() + ")");
    const int c = channels > 0 ? channels : n;
    img = Image(w, h, c);
    for (size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = float(px.get()[i]) / 65535.0f;
  } else {
    std::unique_ptr<stbi_uc, void (*)(void*)> px(stbi_load_from_memory(data, int(bytes.size()), &w, &h, &n, channels),
                                                 stbi_image_free);
    if (!px) throw_bad_input(path, std::string("cannot decode image (") + stbi_failure_reason() + ")");
    const int c = channels > 0 ? channels : n;
    img = Image(w, h, c);
    for (size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = float(px.get()[i]) * (1.0f / 255.0f);
  }
  return img;
}

Image load_mask_image(const std::string& path, int width, int height) {
  const Image file = load_image(path);
  Image m(file.width, file.height, 1);
  for (size_t p = 0; p < m.pixel_count(); ++p) m.pixels[p] = file.pixels[p * size_t(file.channels)];
  if (width > 0 && height > 0 && (m.width != width || m.height != height)) m = resize_image(m, width, height);
  return m;
}

namespace {
void check_writable(const std::string& path, const Image& image, bool gray_only) {
  if (image.empty() || image.width <= 0 || image.height <= 0) throw_internal("save_png: empty image for " + path);
  if (gray_only ? image.channels != 1 : (image.channels != 1 && image.channels != 3 && image.channels != 4))
    throw_internal("save_png: unsupported channel count " + std::to_string(image.channels) + " for " + path);
}
void append_bytes(void* context, void* data, int size) {
  static_cast<std::string*>(context)->append(static_cast<const char*>(data), size_t(size));
}
std::vector<unsigned char> to_bytes(const Image& image) {
  std::vector<unsigned char> px(image.pixels.size());
  for (size_t i = 0; i < px.size(); ++i)
    px[i] = static_cast<unsigned char>(std::lround(std::clamp(image.pixels[i], 0.0f, 1.0f) * 255.0f));
  return px;
}
}  // namespace

std::string encode_png(const Image& image) {
  check_writable("a PNG in memory", image, false);
  const std::vector<unsigned char> px = to_bytes(image);
  std::string encoded;
  if (!stbi_write_png_to_func(append_bytes, &encoded, image.width, image.height, image.channels, px.data(),
                              image.width * image.channels))
    throw_internal("PNG encoding failed");
  return encoded;
}

std::string encode_jpeg(const Image& image, int quality) {
  check_writable("a JPEG in memory", image, false);
  const std::vector<unsigned char> px = to_bytes(image);
  std::string encoded;
  if (!stbi_write_jpg_to_func(append_bytes, &encoded, image.width, image.height, image.channels, px.data(),
                              std::clamp(quality, 1, 100)))
    throw_internal("JPEG encoding failed");
  return encoded;
}

void save_png(const std::string& path, const Image& image) {
  check_writable(path, image, false);
  write_text_atomic(path, encode_png(image));
}

void save_png16(const std::string& path, const Image& image) {
  check_writable(path, image, true);
  // stb writes 8-bit PNG only; a 16-bit grayscale PNG is small enough to encode here with
  // stored (uncompressed) deflate blocks, which every PNG reader accepts.
  const uint32_t w = uint32_t(image.width), h = uint32_t(image.height);
  std::string raw;
  raw.reserve(size_t(h) * (1 + 2 * w));
  for (uint32_t y = 0; y < h; ++y) {
    raw.push_back('\0');
    for (uint32_t x = 0; x < w; ++x) {
      const auto v = static_cast<uint16_t>(std::lround(std::clamp(image.at(int(x), int(y), 0), 0.0f, 1.0f) * 65535.0f));
      raw.push_back(char(v >> 8));
      raw.push_back(char(v & 0xff));
    }
  }
  auto crc32 = [](const std::string& s) {
    uint32_t c = 0xffffffffu;
    for (unsigned char b : s) {
      c ^= b;
      for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return c ^ 0xffffffffu;
  };
  auto be32 = [](uint32_t v) {
    std::string s(4, '\0');
    for (int i = 0; i < 4; ++i) s[size_t(i)] = char((v >> (24 - 8 * i)) & 0xff);
    return s;
  };
  auto chunk = [&](const char* type, const std::string& data) {
    std::string body = std::string(type, 4) + data;
    return be32(uint32_t(data.size())) + body + be32(crc32(body));
  };
  // zlib stream of stored blocks + adler32.
  std::string z = "\x78\x01";
  for (size_t pos = 0; pos < raw.size() || pos == 0;) {
    const size_t n = std::min<size_t>(65535, raw.size() - pos);
    const bool last = pos + n >= raw.size();
    z.push_back(last ? '\x01' : '\x00');
    z.push_back(char(n & 0xff));
    z.push_back(char(n >> 8));
    z.push_back(char(~n & 0xff));
    z.push_back(char((~n >> 8) & 0xff));
    z.append(raw, pos, n);
    pos += n;
    if (last) break;
  }
  uint32_t a = 1, b = 0;
  for (unsigned char ch : raw) {
    a = (a + ch) % 65521u;
    b = (b + a) % 65521u;
  }
  z += be32((b << 16) | a);
  std::string ihdr = be32(w) + be32(h);
  ihdr += std::string("\x10\x00\x00\x00\x00", 5);  // 16-bit, grayscale, deflate, no filter, no interlace
  const std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + chunk("IHDR", ihdr) + chunk("IDAT", z) + chunk("IEND", "");
  write_text_atomic(path, png);
}

Image resize_image(const Image& src, int width, int height) {
  if (width <= 0 || height <= 0) throw_internal("resize_image: bad target size");
  if (width == src.width && height == src.height) return src;
  Image dst(width, height, src.channels);
  const int C = src.channels;
  if (width <= src.width && height <= src.height) {
    // Separable box filter with fractional coverage at the edges of each footprint.
    const double sx = double(src.width) / width, sy = double(src.height) / height;
    Image tmp(width, src.height, C);
    for (int y = 0; y < src.height; ++y)
      for (int x = 0; x < width; ++x) {
        const double x0 = x * sx, x1 = (x + 1) * sx;
        for (int c = 0; c < C; ++c) {
          double acc = 0;
          for (int i = int(x0); i < int(std::ceil(x1)) && i < src.width; ++i)
            acc += src.at(i, y, c) * (std::min(x1, double(i + 1)) - std::max(x0, double(i)));
          tmp.at(x, y, c) = float(acc / sx);
        }
      }
    for (int y = 0; y < height; ++y) {
      const double y0 = y * sy, y1 = (y + 1) * sy;
      for (int x = 0; x < width; ++x)
        for (int c = 0; c < C; ++c) {
          double acc = 0;
          for (int j = int(y0); j < int(std::ceil(y1)) && j < src.height; ++j)
            acc += tmp.at(x, j, c) * (std::min(y1, double(j + 1)) - std::max(y0, double(j)));
          dst.at(x, y, c) = float(acc / sy);
        }
    }
    return dst;
  }
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      const float fx = std::clamp((x + 0.5f) * src.width / width - 0.5f, 0.0f, float(src.width - 1));
      const float fy = std::clamp((y + 0.5f) * src.height / height - 0.5f, 0.0f, float(src.height - 1));
      const int x0 = int(fx), y0 = int(fy), x1 = std::min(x0 + 1, src.width - 1), y1 = std::min(y0 + 1, src.height - 1);
      const float ax = fx - x0, ay = fy - y0;
      for (int c = 0; c < C; ++c)
        dst.at(x, y, c) = (1 - ay) * ((1 - ax) * src.at(x0, y0, c) + ax * src.at(x1, y0, c)) +
                          ay * ((1 - ax) * src.at(x0, y1, c) + ax * src.at(x1, y1, c));
    }
  return dst;
}

Image composite_rgba(const Image& rgba, float r, float g, float b) {
  if (rgba.channels != 4) throw_internal("composite_rgba: expected 4 channels");
  Image out(rgba.width, rgba.height, 3);
  const float bg[3] = {r, g, b};
  for (size_t i = 0; i < rgba.pixel_count(); ++i) {
    const float a = rgba.pixels[i * 4 + 3];
    for (int c = 0; c < 3; ++c) out.pixels[i * 3 + size_t(c)] = rgba.pixels[i * 4 + size_t(c)] * a + bg[c] * (1 - a);
  }
  return out;
}

Image side_by_side(const std::vector<Image>& panels) {
  int width = 0;
  const int height = panels.empty() ? 0 : panels[0].height;
  for (const Image& p : panels) {
    if (p.height != height || (p.channels != 1 && p.channels != 3))
      throw_internal("side_by_side: panels need one height and 1 or 3 channels");
    width += p.width;
  }
  Image out(width, height, 3);
  int x0 = 0;
  for (const Image& p : panels) {
    for (int y = 0; y < height; ++y)
      for (int x = 0; x < p.width; ++x)
        for (int c = 0; c < 3; ++c) out.at(x0 + x, y, c) = p.at(x, y, p.channels == 1 ? 0 : c);
    x0 += p.width;
  }
  return out;
}

std::string render_file_name(const std::string& image_name) {
  std::filesystem::path p(image_name);
  std::string flat = (p.parent_path() / p.stem()).generic_string();
  for (char& c : flat)
    if (c == '/') c = '_';
  return flat + ".png";
}

}  // namespace sp
