#pragma once
// ZIP archives through libzip (Debian libzip-dev): the benchmark submission archives
// (engine/pipeline/submission.h) are written and checked with these.
//
// Writing: entries are collected, then commit() writes the archive in one go. libzip writes
// into a temporary file beside the destination and renames it into place when the archive
// is complete, so a failed or killed write never leaves a partial archive at `path` (an
// archive already there stays untouched until the rename). Entries are stored (PNGs are
// already compressed), in the order added, with a fixed DOS time (1980-01-01 00:00): the
// same entries give a byte-identical archive.
//
// Reading: the central directory is checked for consistency when the archive is opened;
// each entry's CRC-32 is checked when it is read.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sp {

struct ZipEntry {
  std::string name;   // as stored: "scene/image.png" ('/' separated; folders end with '/')
  uint64_t size = 0;  // uncompressed bytes
  bool is_folder() const { return !name.empty() && name.back() == '/'; }
};

class ZipReader {
 public:
  // BadInput naming `path` when it is missing, unreadable or not a consistent ZIP archive.
  explicit ZipReader(const std::string& path);
  ~ZipReader();
  ZipReader(const ZipReader&) = delete;
  ZipReader& operator=(const ZipReader&) = delete;

  const std::string& path() const { return path_; }
  const std::vector<ZipEntry>& entries() const { return entries_; }
  // The whole entry (index into entries()); BadInput naming the entry when its data cannot
  // be read (a damaged archive, a CRC mismatch, an unsupported compression method).
  std::string read(size_t index) const;

 private:
  friend class ZipWriter;
  struct Handle;
  std::string path_;
  std::unique_ptr<Handle> handle_;
  std::vector<ZipEntry> entries_;
};

class ZipWriter {
 public:
  explicit ZipWriter(std::string path);
  ~ZipWriter();
  ZipWriter(const ZipWriter&) = delete;
  ZipWriter& operator=(const ZipWriter&) = delete;

  // The entry's bytes come from a file, read when commit() writes the archive.
  void add_file(const std::string& name, const std::string& source_path);
  void add_bytes(const std::string& name, std::string bytes);
  // Entry `index` of another archive, copied when commit() writes (`source` must stay open
  // until then); no more than one entry's data is held in memory at a time.
  void add_entry_of(const ZipReader& source, size_t index, const std::string& name);
  size_t size() const { return entries_.size(); }
  // Writes the archive. BadInput naming the archive (or the entry) when it cannot be
  // written: a full disk, a missing source file, a duplicate or empty entry name, no
  // entries at all.
  void commit();

 private:
  struct Pending {
    enum class From { Bytes, File, Archive } from = From::Bytes;
    std::string name, source_path, bytes;
    const ZipReader* archive = nullptr;
    size_t index = 0;
  };
  std::string path_;
  std::vector<Pending> entries_;
};

}  // namespace sp
