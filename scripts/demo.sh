#!/usr/bin/env bash
# Sets up, builds, generates the built-in demo scene (scenes/demo.json: objects on a white
# platform in a black box, a DTU/SpaRe-like rig of 49 cameras), reconstructs it from 3
# views and evaluates the 10 held-out views. Output: out/demo/ (table on stdout,
# test/side_by_side/*.png = ground truth | render | error).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
bin=${BUILD_DIR:-build}/tools/sparsplat
"$bin" synth scenes/demo.json -o out/demo_scene
"$bin" recon out/demo_scene/demo_colmap --train-views 3 --iterations "${DEMO_ITERATIONS:-1000}" -o out/demo
echo "demo: ground truth | render | error for each test view in out/demo/test/side_by_side/"
