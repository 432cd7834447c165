#pragma once
// An output folder used by one run at a time: an exclusive flock(2) on FOLDER/.lock, held
// while the lock object lives. The kernel drops it when the process ends however it ends
// (kill -9 included), so a crashed run never leaves a stale lock behind.
#include <string>

namespace sp {

class OutputLock {
 public:
  OutputLock() = default;
  // Creates `folder` if needed and locks it; BadInput "FOLDER is in use by another sparsplat
  // run (pid N)" when another process holds it.
  explicit OutputLock(const std::string& folder);
  ~OutputLock();
  OutputLock(OutputLock&& other) noexcept;
  OutputLock& operator=(OutputLock&& other) noexcept;
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;
  bool held() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

}  // namespace sp
