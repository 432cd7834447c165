#version 450
// Radix sort pass 2 of 3: exclusive prefix sum over the digit-major histogram, in one
// workgroup (each thread scans a contiguous segment; the segment totals are scanned in
// shared memory).
#extension GL_GOOGLE_include_directive : require
#include "radix_common.glsl"

shared uint totals[THREADS];

void main() {
  const uint t = gl_LocalInvocationID.x;
  const uint n = block_count() * RADIX_DIGITS;
  const uint per = (n + THREADS - 1) / THREADS;
  const uint begin = min(t * per, n), end = min(begin + per, n);
  uint sum = 0;
  for (uint i = begin; i < end; ++i) sum += histogram[i];
  totals[t] = sum;
  barrier();
  // Hillis-Steele inclusive scan of the 256 totals.
  for (uint step = 1; step < THREADS; step *= 2) {
    const uint add = t >= step ? totals[t - step] : 0;
    barrier();
    totals[t] += add;
    barrier();
  }
  uint running = totals[t] - sum;  // exclusive
  for (uint i = begin; i < end; ++i) {
    const uint c = histogram[i];
    histogram[i] = running;
    running += c;
  }
}
