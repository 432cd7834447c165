#!/bin/bash
# Prepares the one-call GPU check (docs/cuda.md): builds, HERE, the binaries bench/gpu_check.sh
# runs on the lent GPU machine, and stages them with the shared libraries they need beyond
# glibc and a small real scene (fern at 1/8, 7 MB) into build-gpu-pack/ (git-ignored by
# /build*/). The GPU machine has CUDA, CMake and a compiler but none of the Debian -dev
# packages this project builds against (GLM, CLI11, nlohmann-json, tinyobjloader, GTest), so
# the check runs binaries built here: sm_90 only, static cudart, static GTest.
#
#   bench/gpu_pack.sh            # then, with the device tool:
#   run(command="bash bench/gpu_check.sh", carry=["build-gpu-pack"], timeout_s=600)
#
# Env: BUILD_DIR (default build-gpu), JOBS (default 2), SPARSPLAT_DATA_DIR (default ../shared/data).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=${BUILD_DIR:-$root/build-gpu}
pack=$root/build-gpu-pack
data=${SPARSPLAT_DATA_DIR:-$root/../shared/data}
jobs=${JOBS:-2}

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSPARSPLAT_CUDA=ON \
  -DCMAKE_CUDA_ARCHITECTURES=90 -DSPARSPLAT_VULKAN=OFF -DSPARSPLAT_TORCH=OFF \
  -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache >/dev/null
nice -n 10 cmake --build "$build" -j "$jobs" --target test_cuda test_language bench_cuda sparsplat

rm -rf "$pack"
mkdir -p "$pack/bin" "$pack/lib" "$pack/lib-fallback" "$pack/data"
cp "$build/tests/test_cuda" "$build/tests/test_language" "$build/bench/bench_cuda" "$build/tools/sparsplat" "$pack/bin/"
strip "$pack/bin/"* || true
# Non-glibc libraries: OpenMP and tinyobjloader always travel (not part of a CUDA image);
# libstdc++/libgcc_s only as a fallback (the image's newer ones satisfy binaries built here).
for lib in $(ldd "$pack"/bin/* | awk '/=> \//{print $3}' | sort -u); do
  case "$(basename "$lib")" in
    libc.so*|libm.so*|libdl.so*|libpthread.so*|librt.so*|ld-linux*) ;;
    libstdc++.so*|libgcc_s.so*) cp -L "$lib" "$pack/lib-fallback/" ;;
    *) cp -L "$lib" "$pack/lib/" ;;
  esac
done
# A small real scene: fern's 1/8 images, poses and SfM model (the LLFF protocol's size).
if [ -d "$data/fern" ]; then
  mkdir -p "$pack/data/fern"
  cp -r "$data/fern/images_8" "$data/fern/poses_bounds.npy" "$data/fern/sparse" "$pack/data/fern/"
  [ -f "$data/fern/SOURCE.txt" ] && cp "$data/fern/SOURCE.txt" "$pack/data/fern/"
fi
# DTU scan24 (118 MB) is over what a call carries: its 3 DTU-protocol train views (25, 22, 28)
# and the first 5 protocol test views (1, 2, 9, 10, 11), renumbered 0..7, with their cameras
# and masks; split.txt names the split (bench_cuda reads it; 1/4 size as the protocol).
if [ -d "$data/dtu_scan24" ]; then
  sub=$pack/data/dtu_scan24_subset
  mkdir -p "$sub/images" "$sub/mask"
  views=(25 22 28 1 2 9 10 11)
  for k in "${!views[@]}"; do
    v=${views[$k]}
    cp "$data/dtu_scan24/images/$(printf %06d "$v").png" "$sub/images/$(printf %06d "$k").png"
    cp "$data/dtu_scan24/mask/$(printf %03d "$v").png" "$sub/mask/$(printf %03d "$k").png"
  done
  python3 - "$data/dtu_scan24/cameras_sphere.npz" "$sub/cameras_sphere.npz" "${views[@]}" <<'PY'
import sys, zipfile
src, dst, views = sys.argv[1], sys.argv[2], [int(v) for v in sys.argv[3:]]
with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
    for new, old in enumerate(views):
        for key in ("world_mat", "world_mat_inv", "scale_mat", "scale_mat_inv", "camera_mat", "camera_mat_inv"):
            name = f"{key}_{old}.npy"
            if name in zin.namelist():
                zout.writestr(f"{key}_{new}.npy", zin.read(name))
PY
  printf '0,1,2\n3,4,5,6,7\n' > "$sub/split.txt"
  echo "DTU scan24 views ${views[*]} as 0..7 (train 0,1,2; test 3..7)" > "$sub/SOURCE.txt"
fi
(cd "$build" && git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown) > "$pack/COMMIT"
date -u +%FT%TZ > "$pack/BUILT"
du -sh "$pack"
echo "staged $pack; carry it: run(command=\"bash bench/gpu_check.sh\", carry=[\"build-gpu-pack\"], timeout_s=600)"
