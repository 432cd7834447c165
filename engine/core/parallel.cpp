#include "engine/core/parallel.h"

#include <omp.h>

#include <algorithm>
#include <exception>
#include <thread>

namespace sp {

int thread_count() { return omp_get_max_threads(); }

void set_thread_count(int n) {
  if (n <= 0) n = int(std::thread::hardware_concurrency());
  omp_set_num_threads(n < 1 ? 1 : n);
}

void run_pair(const std::function<void(int)>& body) {
  const int threads = thread_count();
  if (threads < 2 || omp_in_parallel()) {
    body(0);
    body(1);
    return;
  }
  std::exception_ptr error[2];
  const int levels = omp_get_max_active_levels();
  if (threads > 3) omp_set_max_active_levels(std::max(levels, 2));  // halves of two or more threads
#pragma omp parallel num_threads(2)
  {
    // A team of one (the runtime may give fewer threads) runs both bodies in turn.
    const int team = omp_get_num_threads();
    if (team == 2) omp_set_num_threads(omp_get_thread_num() == 0 ? threads / 2 : threads - threads / 2);
    for (int i = omp_get_thread_num(); i < 2; i += team) {
      try {
        body(i);
      } catch (...) {
        error[i] = std::current_exception();
      }
    }
  }
  omp_set_max_active_levels(levels);
  for (const std::exception_ptr& e : error)
    if (e) std::rethrow_exception(e);
}

}  // namespace sp
