#include "engine/core/parallel.h"

#include <omp.h>

#include <thread>

namespace sp {

int thread_count() { return omp_get_max_threads(); }

void set_thread_count(int n) {
  if (n <= 0) n = int(std::thread::hardware_concurrency());
  omp_set_num_threads(n < 1 ? 1 : n);
}

}  // namespace sp
