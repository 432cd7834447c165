#pragma once
// Thread count for the engine's parallel loops (OpenMP underneath). Results never depend
// on scheduling: loops write disjoint outputs and reductions run in a fixed order.
#include <functional>

namespace sp {

int thread_count();
void set_thread_count(int n);  // n <= 0: all hardware threads
// body(0) and body(1) at the same time, each on half of the threads (the parallel loops
// inside body(i) run on them), when there are two threads or more; one after the other
// otherwise. For two independent jobs of about equal size whose loops are too short to
// keep all threads busy. An exception of either is rethrown once both have finished.
void run_pair(const std::function<void(int)>& body);

}  // namespace sp
