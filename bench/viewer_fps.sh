#!/usr/bin/env bash
# Frames per second of sparsplat-view drawing with the engine's CPU tile rasterizer
# (--device cpu) and with the Vulkan splat pipeline (--device vulkan: lavapipe where there is
# no GPU) on the same synthetic scene and window, in one run, under Xvfb. Every frame is a new
# view (--spin: the camera orbits a little each frame, as while dragging), so the CPU path
# renders every frame; "cpu, progressive" lets it drop the scale to keep --target-fps (20).
# The window's frame rate is read from the viewer's --exit summary (frames after the first).
# Usage: bench/viewer_fps.sh [gaussians=100000] [width=800] [height=600] [frames=30]
# (build first: cmake --build build --target sparsplat-view bench_viewer_scene)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
w=${2:-800}
h=${3:-600}
frames=${4:-30}
build=${BUILD_DIR:-build}
view=$build/tools/sparsplat-view
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mkdir -m 700 "$out/xdg"
"$build/bench/bench_viewer_scene" "$out" --gaussians "$n" --width "$w" --height "$h"
run() {  # label, viewer options...
  local label=$1
  shift
  XDG_RUNTIME_DIR=$out/xdg xvfb-run -a -s "-screen 0 $((w + 64))x$((h + 64))x24" "$view" "$out/scene.ply" \
    --cameras "$out/cameras.json" --camera 0 --spin 0.25 --frames "$frames" --exit "$@" >"$out/log.txt" 2>&1 ||
    { cat "$out/log.txt"; exit 1; }
  local device summary
  device=$(grep -o 'on .*' "$out/log.txt" | head -1)
  summary=$(grep -o '[0-9]* frames in .*' "$out/log.txt")
  printf '%-22s %s\n' "$label" "$summary"
  [ "$label" = vulkan ] && echo "    (Vulkan device: ${device#on })" || true
}
echo "sparsplat-view, $n Gaussians, ${w}x${h}, $frames frames, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
run vulkan --device vulkan
run "cpu, full resolution" --device cpu --progressive off
run "cpu, progressive" --device cpu --progressive on --target-fps 20
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
