#pragma once
// SP_VECTOR_CLONES before a function with straight float loops: on x86-64 GCC builds it
// gets an AVX2 copy beside the baseline (SSE2) one, picked at load time by the CPU (no
// -march=native needed). Only AVX2, not FMA: without contraction both copies compute the
// same values bit for bit, so results never depend on the machine. Mark the function
// that holds the loops, not one with an OpenMP region (the region's body is outlined
// before cloning and would stay baseline).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define SP_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define SP_VECTOR_CLONES
#endif
