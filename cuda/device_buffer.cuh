#pragma once
// Error checking and a growing device array for every CUDA source. CUDA-only header.
#include <cuda_runtime.h>

#include <algorithm>
#include <string>

#include "engine/core/error.h"

namespace sp::cuda_detail {

inline void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) {
    cudaGetLastError();  // clear a non-sticky error so the next call starts clean
    throw_internal(std::string("CUDA: ") + what + ": " + cudaGetErrorString(e));
  }
}

// A device array whose capacity only grows (reused every iteration without allocations).
template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() {
    if (ptr_) cudaFree(ptr_);
  }
  void resize(size_t n) {
    if (n > capacity_) {
      if (ptr_) cudaFree(ptr_);
      ptr_ = nullptr;
      capacity_ = 0;
      check(cudaMalloc(reinterpret_cast<void**>(&ptr_), std::max<size_t>(n, 1) * sizeof(T)), "cudaMalloc");
      capacity_ = n;
    }
    size_ = n;
  }
  void upload(const T* host, size_t n) {
    resize(n);
    if (n > 0) check(cudaMemcpy(ptr_, host, n * sizeof(T), cudaMemcpyHostToDevice), "upload");
  }
  void download(T* host, size_t n) const {
    if (n > 0) check(cudaMemcpy(host, ptr_, n * sizeof(T), cudaMemcpyDeviceToHost), "download");
  }
  void zero() {
    if (size_ > 0) check(cudaMemset(ptr_, 0, size_ * sizeof(T)), "cudaMemset");
  }
  T* get() { return ptr_; }
  const T* get() const { return ptr_; }
  size_t size() const { return size_; }

 private:
  T* ptr_ = nullptr;
  size_t size_ = 0, capacity_ = 0;
};

inline int blocks_for(size_t n, int threads) { return int((n + size_t(threads) - 1) / size_t(threads)); }

}  // namespace sp::cuda_detail

#define SP_CUDA_CHECK(call) ::sp::cuda_detail::check((call), #call)
#define SP_CUDA_LAUNCHED(name) ::sp::cuda_detail::check(cudaGetLastError(), "launch of " name)
