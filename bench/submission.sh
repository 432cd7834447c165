#!/usr/bin/env bash
# Benchmark submission on a synthetic SpaRe-shaped root (bench/RESULTS.md, "Benchmark
# submission"): N scenes (scenes/demo.json re-arranged) at the benchmark's 1600x1200, lighting
# 3, the test images and masks kept aside as hidden ground truth; then `sparsplat submit` for
# Track 1 (3 input views) and Track 2 (9), each scored against the kept-aside images.
# Prints the time of every scene and the --score tables.
#
# Usage: bench/submission.sh            environment: SPARSPLAT (binary, default build/tools/sparsplat),
#                                       OUT (default out/bench-submission), SCENES (default 2),
#                                       LPIPS (weights file from scripts/convert_lpips.py; without it
#                                       the LPIPS columns are left out), SUBMIT_ARGS (extra options)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${SPARSPLAT:-build/tools/sparsplat}
out=${OUT:-out/bench-submission}
scenes=${SCENES:-2}
lpips=(--no-lpips)
[ -n "${LPIPS:-}" ] && lpips=(--lpips "$LPIPS")

if [ ! -f "$out/root/Track2_split.json" ]; then
  rm -rf "$out/full" "$out/root" "$out/gt"
  for a in $(seq 1 "$scenes"); do
    # One sample per pixel: these images only need the benchmark's size and layout.
    "$bin" -q synth scenes/demo.json -o "$out/full" --resolution 1600x1200 --layout spare --supersampling 1 \
      --lighting 3 --arrangement "$a" >/dev/null
  done
  # The benchmark's shape: per scene the input images and every pos file; the test images
  # and masks go to gt/ (the server's hidden ground truth); split files for both tracks.
  /usr/bin/python3 - "$out" <<'EOF'
import json, os, shutil, sys
out = sys.argv[1]
split = json.load(open(os.path.join(out, "full", "split.json")))
for scene, e in split.items():
    src, dst, gt = (os.path.join(out, d, scene) for d in ("full", "root", "gt"))
    os.makedirs(dst)
    os.makedirs(os.path.join(gt, "mask"))
    for f in os.listdir(src):
        if f.startswith("pos_"):
            shutil.copy(os.path.join(src, f), dst)
    for v in e["input_views"]:
        shutil.copy(os.path.join(src, f"cam_{v + 1:03d}_3_0000.png"), dst)
    for v in e["test_views"]:
        shutil.copy(os.path.join(src, f"cam_{v + 1:03d}_3_0000.png"), gt)
        shutil.copy(os.path.join(src, "mask", f"{v:03d}.png"), os.path.join(gt, "mask"))
for track, n in ((1, 3), (2, 9)):
    entries = {s: dict(e, input_views=e["input_views"][:n]) for s, e in split.items()}
    json.dump(entries, open(os.path.join(out, "root", f"Track{track}_split.json"), "w"), indent=2)
EOF
fi

for track in 1 2; do
  echo "== Track $track ($([ $track = 1 ] && echo 3 || echo 9) input views)"
  start=$(date +%s)
  # shellcheck disable=SC2086
  "$bin" submit "$out/root" --split "$out/root/Track${track}_split.json" -o "$out/track$track/" --score \
    --gt "$out/gt" "${lpips[@]}" ${SUBMIT_ARGS:-} 2>&1 | grep -E "done in|scenes:|^scene|^demo|^mean|scores ->"
  echo "track $track: $(( $(date +%s) - start )) s"
done
