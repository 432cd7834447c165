#!/usr/bin/env bash
# Installs what sparsplat needs from Debian and builds it into build/.
# Usage: scripts/setup.sh [--no-build]   (environment: BUILD_DIR, CMAKE_ARGS)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  cmake ninja-build g++ pkg-config
  libglm-dev libstb-dev nlohmann-json3-dev libcli11-dev libnanoflann-dev libtinyobjloader-dev
  libgtest-dev libbenchmark-dev
  libzip-dev   # benchmark submission archives (sparsplat submit)
  python3-numpy python3-skimage   # independent PSNR/SSIM reference for the metric tests
  libvulkan-dev glslc mesa-vulkan-drivers vulkan-validationlayers   # Vulkan display (lavapipe on CPU-only machines)
  libglfw3-dev libimgui-dev xvfb xauth   # sparsplat-view and its Xvfb test
  chromium   # renders report.html headless in its screenshot test
  libtorch-dev python3-torch   # diffusion prior (engine/prior): ~30 s install, ~25 s compile, ~30 s of tests
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

[ "${1:-}" = "--no-build" ] && exit 0
build_dir=${BUILD_DIR:-build}
# shellcheck disable=SC2086
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release ${CMAKE_ARGS:-} >/dev/null
cmake --build "$build_dir"
echo "setup: built $build_dir/tools/sparsplat"
