#!/usr/bin/env bash
# 3-view reconstructions of held-out synthetic scenes with and without the diffusion prior
# (docs/prior.md). Scenes come from `train-prior --scenes-only` with seeds outside the
# training range; every run uses the same recon options except --prior.
# Usage: bench/prior_sparse_views.sh SPARSPLAT MODEL OUT [SCENES] [ITERATIONS] [extra recon options...]
# SPARSPLAT_THREADS=N passes --threads N (use 1 on a busy machine: see docs/prior.md).
set -euo pipefail
bin=$1 model=$2 out=$3 scenes=${4:-3} iterations=${5:-500}
shift $(( $# < 5 ? $# : 5 ))
root=$(cd "$(dirname "$0")/.." && pwd)
threads=()
[ -n "${SPARSPLAT_THREADS:-}" ] && threads=(--threads "$SPARSPLAT_THREADS")
"$bin" train-prior "$root/scenes/demo.json" -o "$out/eval" --scenes "$scenes" --seed-base 5000 \
  --width 96 --height 72 --scenes-only >/dev/null
for ((i = 0; i < scenes; ++i)); do
  s=scene_$((5000 + i))
  # shellcheck disable=SC2046
  split=$(cat "$out/eval/scenes/${s}_split.txt")
  for arm in base prior; do
    [ -f "$out/$s/$arm/metrics.json" ] && continue
    opts=()
    [ "$arm" = prior ] && opts=(--prior "$model" "$@")
    # shellcheck disable=SC2086
    "$bin" "${threads[@]}" -q recon "$out/eval/scenes/${s}_colmap" $split --iterations "$iterations" --seed 1 \
      -o "$out/$s/$arm" "${opts[@]}" >/dev/null
  done
done
python3 - "$out" "$scenes" <<'PY'
import json, sys
out, n = sys.argv[1], int(sys.argv[2])
print(f"{'scene':12} {'PSNR base':>10} {'PSNR prior':>11} {'SSIM base':>10} {'SSIM prior':>11} {'PSNR-M base':>12} {'PSNR-M prior':>13}")
tot = [0.0] * 6
for i in range(n):
    s = f"scene_{5000 + i}"
    m = [json.load(open(f"{out}/{s}/{a}/metrics.json"))["mean"] for a in ("base", "prior")]
    row = [m[0]["psnr"], m[1]["psnr"], m[0]["ssim"], m[1]["ssim"], m[0].get("masked_psnr", -1), m[1].get("masked_psnr", -1)]
    tot = [a + b for a, b in zip(tot, row)]
    print(f"{s:12} {row[0]:10.3f} {row[1]:11.3f} {row[2]:10.4f} {row[3]:11.4f} {row[4]:12.3f} {row[5]:13.3f}")
print(f"{'mean':12} " + " ".join(f"{v / n:{w}.{p}f}" for v, w, p in zip(tot, (10, 11, 10, 11, 12, 13), (3, 3, 4, 4, 3, 3))))
PY
