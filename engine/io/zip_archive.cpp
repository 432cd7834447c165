#include "engine/io/zip_archive.h"

#include <zip.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <vector>

#include "engine/core/error.h"
#include "engine/core/memory_budget.h"

namespace sp {
namespace {

// 1980-01-01 00:00:00, the earliest DOS time: a fixed stamp keeps archives reproducible.
constexpr zip_uint16_t kDosTime = 0;
constexpr zip_uint16_t kDosDate = (0 << 9) | (1 << 5) | 1;

std::string error_text(zip_error_t* error) { return zip_error_strerror(error); }

std::string archive_error(zip_t* za) { return zip_strerror(za); }

}  // namespace

struct ZipReader::Handle {
  zip_t* za = nullptr;
  ~Handle() {
    if (za) zip_discard(za);
  }
};

ZipReader::ZipReader(const std::string& path) : path_(path), handle_(std::make_unique<Handle>()) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw_bad_input(path, "no such archive");
  if (std::filesystem::is_directory(path, ec)) throw_bad_input(path, "is a folder, expected a ZIP archive");
  int code = 0;
  handle_->za = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code);
  if (!handle_->za) {
    zip_error_t error;
    zip_error_init_with_code(&error, code);
    const std::string what = error_text(&error);
    zip_error_fini(&error);
    throw_bad_input(path, "not a readable ZIP archive (" + what + ")");
  }
  const zip_int64_t n = zip_get_num_entries(handle_->za, 0);
  for (zip_int64_t i = 0; i < n; ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(handle_->za, zip_uint64_t(i), 0, &st) != 0 || !(st.valid & ZIP_STAT_NAME))
      throw_bad_input(path, "entry " + std::to_string(i) + " is unreadable (" + archive_error(handle_->za) + ")");
    entries_.push_back({st.name, (st.valid & ZIP_STAT_SIZE) ? uint64_t(st.size) : 0});
  }
}

ZipReader::~ZipReader() = default;

std::string ZipReader::read(size_t index) const {
  if (index >= entries_.size()) throw_internal("ZipReader::read: entry index out of range");
  const std::string where = path_ + ": " + entries_[index].name;
  zip_file_t* f = zip_fopen_index(handle_->za, zip_uint64_t(index), 0);
  if (!f) throw_bad_input(where, "cannot open the entry (" + archive_error(handle_->za) + ")");
  // The size is the central directory's claim: held to the memory budget, and the buffer
  // grows with the data actually read, so an entry claiming gigabytes it does not hold
  // costs nothing.
  const size_t claimed = size_t(entries_[index].size);
  try {
    check_memory(claimed, where, "reading the entry");
  } catch (...) {
    zip_fclose(f);
    throw;
  }
  std::string bytes;
  bytes.reserve(std::min(claimed, size_t(1) << 16));
  std::vector<char> chunk(std::min(claimed, size_t(1) << 16) + 1);
  while (bytes.size() < claimed) {
    const zip_int64_t got = zip_fread(f, chunk.data(), std::min(chunk.size(), claimed - bytes.size()));
    if (got < 0) {
      const std::string what = zip_error_strerror(zip_file_get_error(f));
      zip_fclose(f);
      throw_bad_input(where, "damaged entry (" + what + ")");
    }
    if (got == 0) break;
    bytes.append(chunk.data(), size_t(got));
  }
  const size_t done = bytes.size();
  // One more read reaches the end of the entry, where libzip checks the CRC.
  char extra = 0;
  const zip_int64_t tail = done == claimed ? zip_fread(f, &extra, 1) : 0;
  const std::string what = tail < 0 ? zip_error_strerror(zip_file_get_error(f)) : "";
  const int closed = zip_fclose(f);
  if (tail < 0 || tail > 0 || done != claimed || closed != 0)
    throw_bad_input(where, "damaged entry (" + (what.empty() ? std::string("size or CRC mismatch") : what) + ")");
  return bytes;
}

ZipWriter::ZipWriter(std::string path) : path_(std::move(path)) {}
ZipWriter::~ZipWriter() = default;

void ZipWriter::add_file(const std::string& name, const std::string& source_path) {
  Pending p;
  p.from = Pending::From::File;
  p.name = name;
  p.source_path = source_path;
  entries_.push_back(std::move(p));
}

void ZipWriter::add_bytes(const std::string& name, std::string bytes) {
  Pending p;
  p.name = name;
  p.bytes = std::move(bytes);
  entries_.push_back(std::move(p));
}

void ZipWriter::add_entry_of(const ZipReader& source, size_t index, const std::string& name) {
  if (index >= source.entries().size()) throw_internal("ZipWriter::add_entry_of: entry index out of range");
  Pending p;
  p.from = Pending::From::Archive;
  p.name = name;
  p.archive = &source;
  p.index = index;
  entries_.push_back(std::move(p));
}

void ZipWriter::commit() {
  if (entries_.empty()) throw_bad_input(path_, "no entries to write (libzip writes no empty archives)");
  std::set<std::string> names;
  for (const Pending& e : entries_) {
    if (e.name.empty() || e.name.front() == '/') throw_bad_input(path_, "invalid entry name '" + e.name + "'");
    if (!names.insert(e.name).second) throw_bad_input(path_, "entry '" + e.name + "' is added twice");
    std::error_code ec;
    if (e.from == Pending::From::File && !std::filesystem::is_regular_file(e.source_path, ec))
      throw_bad_input(e.source_path, "missing (needed for archive entry " + e.name + ")");
  }
  const auto parent = std::filesystem::path(path_).parent_path();
  std::error_code ec;
  if (!parent.empty() && !std::filesystem::is_directory(parent, ec))
    throw_bad_input(path_, "the folder " + parent.string() + " does not exist");

  int code = 0;
  zip_t* za = zip_open(path_.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code);
  if (!za) {
    zip_error_t error;
    zip_error_init_with_code(&error, code);
    const std::string what = error_text(&error);
    zip_error_fini(&error);
    throw_bad_input(path_, "cannot create the archive (" + what + ")");
  }
  const auto fail = [&](const std::string& where, const std::string& what) {
    zip_discard(za);  // nothing is written; libzip's temporary, if any, is removed
    throw_bad_input(where, what);
  };
  for (const Pending& e : entries_) {
    zip_error_t error;
    zip_error_init(&error);
    zip_source_t* src = nullptr;
    std::string where = path_;
    switch (e.from) {
      case Pending::From::File:
        src = zip_source_file_create(e.source_path.c_str(), 0, -1, &error);
        where = e.source_path;
        break;
      case Pending::From::Bytes:
        src = zip_source_buffer_create(e.bytes.data(), e.bytes.size(), 0, &error);
        break;
      case Pending::From::Archive:
        // Decompressed data (then stored like every entry); libzip checks its CRC on the way.
        src = zip_source_zip(za, e.archive->handle_->za, zip_uint64_t(e.index), 0, 0, -1);
        if (!src) zip_error_set(&error, zip_error_code_zip(zip_get_error(za)), zip_error_code_system(zip_get_error(za)));
        where = e.archive->path();
        break;
    }
    if (!src) {
      const std::string what = error_text(&error);
      zip_error_fini(&error);
      fail(where, "cannot read the data for entry " + e.name + " (" + what + ")");
    }
    zip_error_fini(&error);
    const zip_int64_t index = zip_file_add(za, e.name.c_str(), src, ZIP_FL_ENC_UTF_8);
    if (index < 0) {
      zip_source_free(src);
      fail(path_, "cannot add entry " + e.name + " (" + archive_error(za) + ")");
    }
    if (zip_set_file_compression(za, zip_uint64_t(index), ZIP_CM_STORE, 0) != 0 ||
        zip_file_set_dostime(za, zip_uint64_t(index), kDosTime, kDosDate, 0) != 0)
      fail(path_, "cannot set the attributes of entry " + e.name + " (" + archive_error(za) + ")");
  }
  // zip_close writes everything into a temporary file and renames it to path_.
  if (zip_close(za) != 0) fail(path_, "cannot write the archive (" + archive_error(za) + ")");
}

}  // namespace sp
