#include "engine/core/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/core/error.h"
#include "engine/core/memory_budget.h"

namespace sp {

namespace {
// fsync(2) of a file or folder by name; false when it cannot be opened or synced.
bool sync_path(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}
}  // namespace

void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write, bool durable) {
  namespace fs = std::filesystem;
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  try {
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      if (!out) throw_bad_input(path, std::string("cannot open for writing (") + std::strerror(errno) + ")");
      errno = 0;
      write(out);
      out.flush();
      if (out) out.close();  // close flushes the rest and can fail too
      // errno from the failed write(2) (ENOSPC, EFBIG, EIO); the stream keeps no reason.
      if (!out)
        throw_bad_input(path, std::string("write failed (") + (errno ? std::strerror(errno) : "unknown error") +
                                  "); the previous file, if any, is unchanged");
    }
    if (durable && !sync_path(tmp))
      throw_bad_input(path, std::string("cannot flush to disk (") + std::strerror(errno) +
                                "); the previous file, if any, is unchanged");
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) throw_bad_input(path, "cannot rename temporary file: " + ec.message());
    // The rename itself is an entry of the folder.
    if (durable) sync_path(fs::path(path).has_parent_path() ? fs::path(path).parent_path().string() : ".");
  } catch (...) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw;
  }
}

void write_text_atomic(const std::string& path, std::string_view text) {
  write_file_atomic(path, [&](std::ostream& out) { out.write(text.data(), std::streamsize(text.size())); });
}

std::string read_file(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) throw_bad_input(path, "no such file");
  if (fs::is_directory(path, ec)) throw_bad_input(path, "is a folder, expected a file");
  // The whole file is held in memory: refuse one larger than the budget before reading it.
  if (const auto size = fs::file_size(path, ec); !ec) check_memory(size_t(size), path, "reading the file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_bad_input(path, std::string("cannot open (") + std::strerror(errno) + ")");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void remove_stale_temporaries(const std::string& dir, const std::string& prefix) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const size_t tmp = name.rfind(".tmp-");
    if (tmp == std::string::npos || tmp + 5 == name.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    if (name.find_first_not_of("0123456789", tmp + 5) != std::string::npos) continue;
    std::error_code ignored;
    fs::remove(it->path(), ignored);
  }
}

}  // namespace sp
