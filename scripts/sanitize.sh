#!/usr/bin/env bash
# Builds the unit-test suites under a sanitizer and runs them (issue #17; CI runs `address`).
#   scripts/sanitize.sh [address|thread] [gtest arguments, e.g. --gtest_filter=...]
#   address: AddressSanitizer + UndefinedBehaviorSanitizer, build-asan/
#   thread:  ThreadSanitizer over the rasterizer and trainer tests, build-tsan/. Not clean yet
#            and not in CI: GCC's libgomp is not instrumented, so TSan takes every OpenMP
#            join for a race (first reports: adam.cpp, tile_rasterizer_cpu.cpp after their
#            parallel loops). A meaningful run needs clang's libomp with its TSan support.
# The CPU engine only (no CUDA, libtorch or Vulkan: their drivers are not instrumented), and
# the unit suites only: the end-to-end CLI and pipeline tests run whole reconstructions and
# stay in the normal build.
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-address}
[ $# -gt 0 ] && shift
case "$kind" in
  address) flags="address,undefined"; dir=${BUILD_DIR:-build-asan}
           suites=(test_core test_io test_scene test_render test_eval test_train test_synth) ;;
  thread)  flags="thread"; dir=${BUILD_DIR:-build-tsan}
           suites=(test_render test_train) ;;
  *) echo "usage: scripts/sanitize.sh [address|thread] [ctest arguments]" >&2; exit 2 ;;
esac
scripts/setup.sh --no-build
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSPARSPLAT_SANITIZE="$flags" \
  -DSPARSPLAT_CUDA=OFF -DSPARSPLAT_TORCH=OFF -DSPARSPLAT_VULKAN=OFF -DSPARSPLAT_BENCH=OFF >/dev/null
cmake --build "$dir" --target "${suites[@]}"
# halt_on_error: the first finding fails its test; the stack says where.
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1}
export OMP_WAIT_POLICY=passive  # two suites at once on few cores (tests/CMakeLists.txt)
# Two suites at a time, each into its own log, shown when it fails.
logs="$dir/sanitize-logs"
mkdir -p "$logs"
run_suite() {
  local s=$1; shift
  local start=$SECONDS
  if "$dir/tests/$s" --gtest_brief=1 "$@" > "$logs/$s.log" 2>&1; then
    echo "[ok  ] $s ($((SECONDS - start)) s)"
  else
    echo "[FAIL] $s ($((SECONDS - start)) s):"; tail -60 "$logs/$s.log"; return 1
  fi
}
export -f run_suite
export dir logs
printf '%s\n' "${suites[@]}" | xargs -P 2 -I{} bash -c 'run_suite "$@"' _ {} "$@"
