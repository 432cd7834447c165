#pragma once
// A thread-safe least-recently-used cache bounded by bytes, for decoded images and
// undistortion maps. Each key is made once: a caller asking for a key another thread is
// making waits for that result instead of decoding the same file twice.
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

namespace sp {

template <class V>
class LruCache {
 public:
  using Ptr = std::shared_ptr<const V>;

  explicit LruCache(size_t budget_bytes) : budget_(budget_bytes) {}

  // The value for `key`; on a miss make() (returning Ptr) runs outside the lock and its
  // result is kept if bytes_of(value) fits the budget, evicting the least recently used.
  // If make() throws, the error reaches this caller and waiting callers try again.
  template <class Make, class BytesOf>
  Ptr get(uint64_t key, Make&& make, BytesOf&& bytes_of) {
    std::unique_lock<std::mutex> lock(mutex_);
    while (true) {
      const auto it = map_.find(key);
      if (it != map_.end()) {
        order_.splice(order_.begin(), order_, it->second.pos);
        ++hits_;
        return it->second.value;
      }
      if (!in_flight_.count(key)) break;
      ready_.wait(lock);
    }
    in_flight_.insert(key);
    ++makes_;
    lock.unlock();
    Ptr value;
    try {
      value = make();
    } catch (...) {
      lock.lock();
      in_flight_.erase(key);
      ready_.notify_all();
      throw;
    }
    const size_t bytes = bytes_of(*value);
    lock.lock();
    in_flight_.erase(key);
    if (bytes <= budget_) {
      order_.push_front(key);
      map_.emplace(key, Entry{value, bytes, order_.begin()});
      bytes_ += bytes;
      while (bytes_ > budget_ && order_.size() > 1) {
        const uint64_t victim = order_.back();
        order_.pop_back();
        const auto v = map_.find(victim);
        bytes_ -= v->second.bytes;
        map_.erase(v);
      }
    }
    ready_.notify_all();
    return value;
  }

  size_t bytes() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return bytes_;
  }
  size_t entries() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return map_.size();
  }
  size_t makes() const {  // misses that ran make()
    std::lock_guard<std::mutex> lock(mutex_);
    return makes_;
  }
  size_t hits() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return hits_;
  }
  size_t budget() const { return budget_; }

 private:
  struct Entry {
    Ptr value;
    size_t bytes;
    std::list<uint64_t>::iterator pos;
  };
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::list<uint64_t> order_;  // most recently used first
  std::unordered_map<uint64_t, Entry> map_;
  std::unordered_set<uint64_t> in_flight_;
  size_t budget_;
  size_t bytes_ = 0, makes_ = 0, hits_ = 0;
};

}  // namespace sp
