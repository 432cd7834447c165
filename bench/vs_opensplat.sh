#!/usr/bin/env bash
# `sparsplat recon` and OpenSplat's CPU path side by side, in one run, on the Statue of
# Liberty scene (../shared/data/statue, COLMAP) at 199x299 and 399x599: the same views
# (all but view 0, which both hold out), the same iteration count, each program's default
# densification and SH schedule. OpenSplat runs with its own (default) threading, ours
# with --threads 2. Both are timed as whole processes (image loading included) and by
# their training loop alone.
# Usage: OPENSPLAT=/path/to/opensplat bench/vs_opensplat.sh [iterations]   (default 300)
# Optional: OPENSPLAT_THREADS=N sets OMP_NUM_THREADS for OpenSplat (its libtorch ops).
set -euo pipefail
[ -n "${OPENSPLAT:-}" ] || { echo "skipping: OPENSPLAT is not set"; exit 0; }
OPENSPLAT=$(realpath "$(command -v "$OPENSPLAT")")   # it runs from a scratch folder
cd "$(dirname "$0")/.."
data=${SPARSPLAT_DATA_DIR:-../shared/data}/statue
[ -d "$data" ] || { echo "bench: $data not found; skipping"; exit 0; }
bin=${BUILD_DIR:-build}/tools/sparsplat
iters=${1:-300}
val=$(ls "$data/images" | sort | head -n 1)   # view 0 of both programs
data=$(realpath "$data")
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
[ -n "${OPENSPLAT_THREADS:-}" ] && export OMP_NUM_THREADS=$OPENSPLAT_THREADS
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$iters iterations; s/it whole = process wall time / iterations (load included), s/it train = training loop only"

# OpenSplat prints "Step N: ..." once per step on the CPU path; stamp each line to time the loop.
stamp='import sys, time
n = 0
for line in sys.stdin:
    if line.startswith("Step "):
        t = time.monotonic(); n += 1
        if n == 1: t1 = t
print(f"{n} {(t - t1) / max(n - 1, 1) if n else 0}")'

summary='import json, re, sys
ours_m, ours_t, os_t, os_ply, os_steps, res = sys.argv[1:]
def time_v(p):
    s = open(p).read()
    h, m, sec = (["0"] + re.search(r"Elapsed \(wall clock\) time.*: ([\d:.]+)", s).group(1).split(":"))[-3:]
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", s).group(1)) / 1024
    cpu = re.search(r"Percent of CPU this job got: (\d+)%", s).group(1)
    return 3600 * int(h) + 60 * int(m) + float(sec), rss, cpu
m = json.load(open(ours_m))
it = m["iterations"]
ow, orss, ocpu = time_v(ours_t)
tw, trss, tcpu = time_v(os_t)
head = open(os_ply, "rb").read(4096).decode("latin-1")
tg = int(re.search(r"element vertex (\d+)", head).group(1))
steps, ttrain = os_steps.split()
w, h = m["resolution"]
rows = [("sparsplat", ow / it, m["seconds_per_iteration"], m["gaussians"], orss, ocpu, ow),
        ("OpenSplat", tw / it, float(ttrain), tg, trss, tcpu, tw)]
for name, whole, train, g, rss, cpu, wall in rows:
    print(f"{w}x{h:<4} {name:10} {whole:9.4f} {train:9.4f} {g:10d} {rss:9.0f} {cpu:>5}% {wall:8.1f}")
print(f"{w}x{h:<4} ratio      {rows[1][1] / rows[0][1]:8.1f}x {rows[1][2] / rows[0][2]:8.1f}x   (OpenSplat / sparsplat)")'

printf '%-9s %-10s %9s %9s %10s %9s %6s %8s\n' size program s/it_whole s/it_train gaussians peak_MiB cpu wall_s
for d in 4 2; do
  res=$((1200 / d - 1))
  /usr/bin/time -v -o "$out/ours$d.time" "$bin" --threads 2 -q recon "$data" --resolution "$res" \
    --test-ids 0 --no-test-renders --iterations "$iters" -o "$out/ours$d" >/dev/null
  mkdir -p "$out/os$d"
  (cd "$out/os$d" && /usr/bin/time -v -o ../os$d.time "$OPENSPLAT" "$data" --cpu -n "$iters" -d "$d" \
    --num-downscales 0 --val --val-image "$val" -o splat.ply) | python3 -c "$stamp" >"$out/os$d.steps"
  python3 -c "$summary" "$out/ours$d/metrics.json" "$out/ours$d.time" "$out/os$d.time" \
    "$out/os$d/splat.ply" "$(cat "$out/os$d.steps")" "$res"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
