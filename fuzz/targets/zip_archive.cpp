// Submission archives as `submit --check / --score / --merge` read them: libzip's directory
// checks, then every entry read in full (CRC at its end).
#include <fstream>

#include "engine/io/zip_archive.h"
#include "fuzz_target.h"

SPARSPLAT_FUZZ_TARGET({
  static const std::string path = sp::fuzz::scratch_dir() + "/submission.zip";
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), std::streamsize(bytes.size()));
  const sp::ZipReader zip(path);
  for (size_t i = 0; i < zip.entries().size(); ++i)
    if (!zip.entries()[i].is_folder()) (void)zip.read(i);
})
