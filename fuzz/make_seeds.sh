#!/usr/bin/env bash
# Seed corpora for the fuzz targets, written at run time into a build folder (never
# committed):   fuzz/make_seeds.sh FUZZ_BUILD_DIR OUT_DIR
#   - the engine's own encoders (FUZZ_BUILD_DIR/write_seeds): small valid files of every format;
#   - small real files from ../shared/data (SPARSPLAT_DATA_DIR), copied whole, and large ones
#     (points3D.bin, images.bin, point_cloud.ply) cut to a few records by write_seeds;
#   - the generator: `sparsplat synth` of a 4-view 32 px scene (SpaRe pos/split files, COLMAP
#     text, PNGs, depth NPYs, its scene file) and a 20-iteration `recon` of it (checkpoint,
#     cameras.json, PLY), when the CLI is built (SPARSPLAT_CLI, default build/tools/sparsplat);
#   - the scene files in scenes/.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$1 out=$2
data=${SPARSPLAT_DATA_DIR:-../shared/data}
cli=${SPARSPLAT_CLI:-build/tools/sparsplat}
rm -rf "$out"
mkdir -p "$out"

# copy TARGET FILE...: into OUT/TARGET, named after the path (so seeds of one name do not collide).
copy() {
  local target=$1 f name
  shift
  mkdir -p "$out/$target"
  for f in "$@"; do
    name=${f#"$data"/}
    name=${name#"$out"/}
    cp "$f" "$out/$target/$(printf '%s' "$name" | tr '/ ' '__')"
  done
}
# small PATTERN KIB [MAX]: files under DIR named PATTERN below KIB KiB, the smallest MAX.
small() {
  find "$3" -type f -name "$1" -size -"$2"k -printf '%s %p\n' 2>/dev/null | sort -n | head -"${4:-8}" | cut -d' ' -f2-
}

cut=()
if [ -d "$data" ]; then
  mapfile -t cut < <(find "$data" -path '*/sparse/0/*' \( -name points3D.bin -o -name images.bin -o -name cameras.bin \) | sort;
                     find "$data" -name point_cloud.ply -size -64M | sort)
fi
"$bin/write_seeds" "$out" "${cut[@]}"

if [ -d "$data" ]; then
  mapfile -t f < <(small cameras.bin 64 "$data"); copy colmap_cameras_bin "${f[@]}"
  mapfile -t f < <(small images.bin 16 "$data"); copy colmap_images_bin "${f[@]}"
  mapfile -t f < <(small poses_bounds.npy 64 "$data" 4); copy poses_bounds "${f[@]}"; copy npy "${f[@]}"
  mapfile -t f < <(small '*.npz' 128 "$data" 2); copy npz "${f[@]}"
  mapfile -t f < <(small cameras.json 64 "$data"); copy cameras_json "${f[@]}"
  mapfile -t f < <(small 'transforms*.json' 64 "$data"); copy transforms_json "${f[@]}"
  mapfile -t f < <(small 'split*.json' 16 "$data"); copy spare_split "${f[@]}"
  mapfile -t f < <(small 'pos_*.txt' 4 "$data" 4); copy spare_pos "${f[@]}"
  mapfile -t f < <(small '*.png' 24 "$data" 1; small '*.jpg' 40 "$data" 1)  # decoding is slow: one of each
  copy image_decode "${f[@]}"; copy image_file "${f[@]}"
fi
copy scene_json scenes/*.json

if [ -x "$cli" ]; then
  g=$out/generated
  if "$cli" synth scenes/blocks.json -o "$g/scene" --resolution 32 --views 4 --supersampling 1 --layout all \
       >"$out/generated.log" 2>&1; then
    mapfile -t f < <(find "$g" -name 'pos_*.txt' | sort | head -4); copy spare_pos "${f[@]}"
    mapfile -t f < <(find "$g" -name 'split*.json'); copy spare_split "${f[@]}"
    mapfile -t f < <(find "$g" -name '*_synth.json'); copy scene_json "${f[@]}"
    mapfile -t f < <(find "$g" -name '*.npy' | sort | head -2); copy npy "${f[@]}"
    mapfile -t f < <(find "$g" -name '*.png' | sort | head -3); copy image_decode "${f[@]}"; copy image_file "${f[@]}"
    for stem in cameras images points3D; do
      target=colmap_$(printf '%s' "$stem" | sed 's/points3D/points/')
      mapfile -t f < <(find "$g" -name "$stem.txt" -size -64k); copy "${target}_txt" "${f[@]}"
    done
    # A 20-iteration run from 8 random Gaussians: checkpoints, cameras.json and a PLY of a few KiB.
    colmap=$(find "$g" -name cameras.txt | head -1)
    if [ -n "$colmap" ] && "$cli" recon "$(dirname "$colmap")/../.." -o "$g/recon" --iterations 20 --checkpoint-every 10 \
         --threads 1 --init random --init-points 8 --no-densify >>"$out/generated.log" 2>&1; then
      copy checkpoint "$g/recon/checkpoints/ckpt_000010.bin"
      copy cameras_json "$g/recon/cameras.json"
      copy gaussian_ply "$g/recon/point_cloud.ply"; copy ply "$g/recon/point_cloud.ply"
    fi
  fi
  rm -rf "$g"
else
  echo "make_seeds: $cli not built; no seeds from the generator" >&2
fi
for d in "$out"/*/; do printf '%s %s\n' "$(basename "$d")" "$(ls "$d" | wc -l)"; done | column -t
