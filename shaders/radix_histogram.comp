#version 450
// Radix sort pass 1 of 3: per block, how many keys have each digit.
#extension GL_GOOGLE_include_directive : require
#include "radix_common.glsl"

void main() {
  const uint block = gl_WorkGroupID.x, t = gl_LocalInvocationID.x;
  count_thread_digits(block, t);
  barrier();
  // 16 threads per digit each add 16 threads' counts, then one of them adds the 16 sums.
  const uint digit = t / 16, part = t % 16;
  uint sum = 0;
  for (uint k = 0; k < 16; ++k) sum += counts[digit * THREADS + part * 16 + k];
  barrier();
  counts[digit * THREADS + part] = sum;
  barrier();
  if (part == 0) {
    uint total = 0;
    for (uint k = 0; k < 16; ++k) total += counts[digit * THREADS + k];
    histogram[digit * block_count() + block] = total;
  }
}
