#!/usr/bin/env bash
# Photos in the wild (docs/in_the_wild.md): the statue's Flickr collection with 5 train
# photos, PhotoTourism protocol (each test photo's colour code fitted on its left half, PSNR
# and SSIM on its right half), one row per arm; every arm uses the same recon options
# except the ones it names.
# Usage: bench/in_the_wild.sh SPARSPLAT OUT [DATA] [RESOLUTION] [PRIOR_MODEL] [extra recon options...]
#   DATA        default ../shared/data/statue
#   RESOLUTION  longest side in pixels (default 400)
#   PRIOR_MODEL a diffusion prior (train-prior's prior.pt) for the last row; "-" or absent: row skipped
# Split: the COLMAP loader's LLFF hold-out rule on the photos sorted by name: test = every
# 8th photo (17 of 135), train = round(linspace(0, 117, 5)) of the other 118 (split.json of
# each run lists them).
set -euo pipefail
bin=$1 out=$2
root=$(cd "$(dirname "$0")/.." && pwd)
data=${3:-$root/../shared/data/statue} resolution=${4:-400} prior=${5:--}
shift $(( $# < 5 ? $# : 5 ))
threads=()
[ -n "${SPARSPLAT_THREADS:-}" ] && threads=(--threads "$SPARSPLAT_THREADS")
arms=(plain appearance robust both)
[ "$prior" != "-" ] && arms+=(prior)
for arm in "${arms[@]}"; do
  [ -f "$out/$arm/metrics.json" ] && continue
  case $arm in
    plain) opts=(--appearance off --robust-loss off) ;;
    appearance) opts=(--appearance on --robust-loss off) ;;
    robust) opts=(--appearance off --robust-loss on) ;;
    both) opts=(--appearance on --robust-loss on) ;;
    prior) opts=(--appearance on --robust-loss on --prior "$prior") ;;
  esac
  mkdir -p "$out"
  "$bin" "${threads[@]}" recon "$data" --train-views 5 --resolution "$resolution" --seed 0 --half-protocol \
    -o "$out/$arm" "${opts[@]}" "$@" >"$out/$arm.log" 2>&1
done
python3 - "$out" "${arms[@]}" <<'PY'
import json, sys
out, arms = sys.argv[1], sys.argv[2:]
label = {"plain": "plain", "appearance": "+ appearance", "robust": "+ robust loss", "both": "+ both",
         "prior": "+ both + diffusion prior"}
split = json.load(open(f"{out}/{arms[0]}/split.json"))
print("train ids", split["train_ids"], "test ids", split["test_ids"])
print(f"| arm | right-half PSNR (code fitted on left) | SSIM | right-half PSNR, no code | full-image PSNR (no code) | train s | appearance |")
print("|---|---|---|---|---|---|---|")
for a in arms:
    m = json.load(open(f"{out}/{a}/metrics.json"))
    h = m["halves"]
    print(f"| {label[a]} | {h['fitted']['psnr']:.2f} | {h['fitted']['ssim']:.4f} | {h['unfitted']['psnr']:.2f} | "
          f"{m['mean']['psnr']:.2f} | {m['train_seconds']:.0f} | {m['appearance'].split(' (')[0]} |")
PY
