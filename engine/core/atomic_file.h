#pragma once
// Every output file is written to a temporary name beside its destination and renamed
// into place, so a killed run never leaves a half-written file.
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>

namespace sp {

// Calls write(stream) on "<path>.tmp-<pid>" and renames it to path; removes the temporary
// and rethrows if write throws. Throws a BadInput error if the folder cannot be written.
// `durable` (checkpoints): the file's data reaches the disk (fsync) before the rename and the
// rename before the call returns, so a power cut or an OS crash, not only a killed process,
// leaves the previous or the new file whole. Other outputs skip it (it costs a disk flush).
void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write,
                       bool durable = false);
void write_text_atomic(const std::string& path, std::string_view text);

// Removes the temporaries a killed writer left in `dir` ("<name>.tmp-<pid>"), of every file
// or only of files whose names start with `prefix`. Call it only while the folder is locked
// (engine/core/output_lock.h): another run's temporaries are not stale.
void remove_stale_temporaries(const std::string& dir, const std::string& prefix = "");

// Reads a whole file; BadInput error naming the file if it cannot be read or is larger than
// the memory budget (engine/core/memory_budget.h).
std::string read_file(const std::string& path);

}  // namespace sp
