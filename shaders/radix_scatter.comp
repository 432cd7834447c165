#version 450
// Radix sort pass 3 of 3: each key goes to its block's start for its digit (from
// radix_scan) + the count of the same digit in earlier threads of the block + earlier keys
// of its own thread. Stable by construction.
#extension GL_GOOGLE_include_directive : require
#include "radix_common.glsl"

shared uint segment_base[RADIX_DIGITS * 16];

void main() {
  const uint block = gl_WorkGroupID.x, t = gl_LocalInvocationID.x;
  count_thread_digits(block, t);
  barrier();
  // Exclusive scan of counts[digit][0..255]: 16 segments of 16 threads per digit.
  const uint digit = t / 16, part = t % 16;
  const uint row = digit * THREADS + part * 16;
  uint running = 0;
  for (uint k = 0; k < 16; ++k) {
    const uint c = counts[row + k];
    counts[row + k] = running;
    running += c;
  }
  segment_base[digit * 16 + part] = running;  // segment total for now
  barrier();
  if (part == 0) {
    uint base = histogram[digit * block_count() + block];
    for (uint k = 0; k < 16; ++k) {
      const uint c = segment_base[digit * 16 + k];
      segment_base[digit * 16 + k] = base;
      base += c;
    }
  }
  barrier();
  const uint add = segment_base[digit * 16 + part];
  for (uint k = 0; k < 16; ++k) counts[row + k] += add;
  barrier();

  const uint n = counters.visible;
  const uint first = block * BLOCK_KEYS + t * ITEMS;
  for (uint j = 0; j < ITEMS; ++j) {
    const uint i = first + j;
    if (i < n) {
      const uint key = keys_in[i];
      const uint slot = ((key >> pass.shift) & (RADIX_DIGITS - 1)) * THREADS + t;
      const uint dst = counts[slot];
      counts[slot] = dst + 1;
      keys_out[dst] = key;
      values_out[dst] = values_in[i];
    }
  }
}
