#!/usr/bin/env bash
# libFuzzer over every parser (issue #17, item 4; fuzz/CMakeLists.txt lists the targets).
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]      default 60 s, every target
# Builds fuzz/ with clang (installed with apt when missing) into build-fuzz/, writes the seed
# corpora (fuzz/make_seeds.sh), runs each target for the time given and prints per target
# the executions, executions per second and crashes. Inputs that found something are saved
# in build-fuzz/findings/<target>-{crash,leak,timeout,oom}-*; the grown corpus stays in
# build-fuzz/corpus/<target> for the next run. Exit status 1 when any target found one.
# FUZZ_PARALLEL=N runs N targets at a time (default 1: the CI machine has 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
[ $# -gt 0 ] && shift
dir=${FUZZ_BUILD_DIR:-build-fuzz}

cxx=$(command -v clang++ || command -v clang++-14 || true)
if [ -z "$cxx" ] || ! echo 'int LLVMFuzzerTestOneInput(const char*, long) { return 0; }' |
    "$cxx" -x c++ -fsanitize=fuzzer -o /dev/null - 2>/dev/null; then
  echo "fuzz: installing clang and libFuzzer (apt)"
  sudo=$([ "$(id -u)" = 0 ] || echo sudo)
  $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends clang-14 libclang-rt-14-dev >/dev/null
  cxx=$(command -v clang++ || command -v clang++-14)
fi
cc=${cxx/clang++/clang}
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
start=$SECONDS
cmake -S fuzz -B "$dir" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_C_COMPILER="$cc" "${launcher[@]}" >/dev/null
cmake --build "$dir"
echo "fuzz: built in $((SECONDS - start)) s"
fuzz/make_seeds.sh "$dir" "$dir/seeds" | sed 's/^/fuzz: seeds: /'

if [ $# -gt 0 ]; then targets=("$@"); else
  mapfile -t targets < <(ls fuzz/targets/*.cpp | xargs -n1 basename | sed 's/\.cpp$//')
fi
mkdir -p "$dir/findings" "$dir/logs"
run_target() {
  local t=$1
  mkdir -p "$dir/corpus/$t" "$dir/seeds/$t"
  # malloc_limit: any single allocation above 512 MiB is a finding (the targets' memory
  # budget is 256 MiB, engine/core/memory_budget.h); timeout: one input may take 10 s.
  "$dir/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 \
    -print_final_stats=1 -artifact_prefix="$dir/findings/$t-" "$dir/corpus/$t" "$dir/seeds/$t" \
    >"$dir/logs/$t.log" 2>&1 || true
  local execs rate found
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/logs/$t.log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/logs/$t.log" | tail -1)
  found=$(find "$dir/findings" -name "$t-*" -newer "$dir/logs/.start" | wc -l)
  printf '%-20s %12s %10s %8s %8s\n' "$t" "${execs:-?}" "${rate:-?}" "$found" "$(ls "$dir/corpus/$t" | wc -l)"
}
export -f run_target
export dir seconds
touch "$dir/logs/.start"
printf '%-20s %12s %10s %8s %8s\n' target executions exec/s crashes corpus
printf '%s\n' "${targets[@]}" | xargs -P "${FUZZ_PARALLEL:-1}" -I{} bash -c 'run_target {}' | tee "$dir/logs/summary.txt"
if find "$dir/findings" -newer "$dir/logs/.start" -type f | grep -q .; then
  echo "fuzz: findings (reproduce: $dir/fuzz_TARGET FILE):"
  find "$dir/findings" -newer "$dir/logs/.start" -type f | sed 's/^/  /'
  exit 1
fi
echo "fuzz: no findings in $((SECONDS - start)) s"
