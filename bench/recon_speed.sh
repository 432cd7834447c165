#!/usr/bin/env bash
# Seconds per training iteration and peak memory of `sparsplat recon` on the Statue of
# Liberty scene at the settings OpenSplat 1.1.5's CPU path was timed with (27,457 SfM
# Gaussians, all views, no densification during the timed steps, 199x299 and 399x599).
# Usage: bench/recon_speed.sh [iterations]   (build first: scripts/setup.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${SPARSPLAT_DATA_DIR:-../shared/data}/statue
[ -d "$data" ] || { echo "bench: $data not found; skipping"; exit 0; }
bin=${BUILD_DIR:-build}/tools/sparsplat
iters=${1:-300}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
printf '%-10s %10s %12s %12s %10s\n' resolution gaussians s/iteration peak_MiB threads
for res in 299 599; do
  /usr/bin/time -v "$bin" -q recon "$data" --resolution "$res" --init sfm --no-densify --no-test-renders \
    --test-ids 0 --iterations "$iters" -o "$out/$res" 2>"$out/time.txt" >/dev/null
  python3 - "$out/$res/metrics.json" "$out/time.txt" <<'PY'
import json, re, sys
m = json.load(open(sys.argv[1]))
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(sys.argv[2]).read()).group(1))
w, h = m["resolution"]
print(f"{w}x{h:<6} {m['gaussians']:10d} {m['seconds_per_iteration']:12.4f} {rss/1024:12.0f} {m['threads']:10d}")
PY
done
