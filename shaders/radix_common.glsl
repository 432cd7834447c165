// Shared by the three radix sort passes: 4-bit digits (8 passes over 32-bit keys), blocks of
// 256 threads x 8 keys. Each thread owns 8 consecutive keys, so scattering them in thread
// order keeps the sort stable (LSD radix sort needs every pass stable).
#define RADIX_BITS 4
#define RADIX_DIGITS 16
#define THREADS 256
#define ITEMS 8
#define BLOCK_KEYS (THREADS * ITEMS)
#define COUNTERS_BINDING 5

layout(local_size_x = THREADS) in;
layout(std430, set = 0, binding = 0) readonly buffer KeysIn { uint keys_in[]; };
layout(std430, set = 0, binding = 1) readonly buffer ValuesIn { uint values_in[]; };
layout(std430, set = 0, binding = 2) writeonly buffer KeysOut { uint keys_out[]; };
layout(std430, set = 0, binding = 3) writeonly buffer ValuesOut { uint values_out[]; };
// Digit-major counts: histogram[digit * blocks + block]; after radix_scan, where that block's
// keys with that digit start in the output.
layout(std430, set = 0, binding = 4) buffer Histogram { uint histogram[]; };
#include "counters.glsl"
layout(push_constant) uniform Pass { uint shift; } pass;

uint block_count() { return (counters.visible + BLOCK_KEYS - 1) / BLOCK_KEYS; }

// Per-thread digit counts of this thread's keys: counts[digit * THREADS + thread].
shared uint counts[RADIX_DIGITS * THREADS];

void count_thread_digits(uint block, uint t) {
  for (uint d = 0; d < RADIX_DIGITS; ++d) counts[d * THREADS + t] = 0;
  const uint n = counters.visible;
  const uint first = block * BLOCK_KEYS + t * ITEMS;
  for (uint j = 0; j < ITEMS; ++j) {
    const uint i = first + j;
    if (i < n) counts[((keys_in[i] >> pass.shift) & (RADIX_DIGITS - 1)) * THREADS + t] += 1;
  }
}
