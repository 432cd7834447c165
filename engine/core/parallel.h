#pragma once
// Thread count for the engine's parallel loops (OpenMP underneath). Results never depend
// on scheduling: loops write disjoint outputs and reductions run in a fixed order.
namespace sp {

int thread_count();
void set_thread_count(int n);  // n <= 0: all hardware threads

}  // namespace sp
