#!/bin/bash
# The GPU check in ONE device call (docs/cuda.md), after bench/gpu_pack.sh staged
# build-gpu-pack/ here:
#   run(command="bash bench/gpu_check.sh", carry=["build-gpu-pack"], timeout_s=600)
# Runs, on the lent machine, from the repository root: the CUDA tests (tests/cuda and the
# language CUDA test) against the CPU reference, a `recon --device cuda` smoke run, and
# bench_cuda (1080p 100k/1M/3M passes, 3-view training time, 500-iteration CPU-vs-GPU PSNR).
# Everything it prints goes to $OUT/gpu_check.log (and the JSON/XML results beside it).
# Stages are time-boxed (180 + 45 + 60 + 240 + 45 s at most; typically a few minutes) so the
# call ends inside the 600 s a command may run; a failing stage does not stop the next one;
# the exit code is the number of failed stages.
set -u
OUT=${OUT:-/tmp/gpu_check_out}
mkdir -p "$OUT"
pack=build-gpu-pack
log=$OUT/gpu_check.log
failed=0
stage() {  # stage NAME TIMEOUT_S COMMAND...
  local name=$1 limit=$2
  shift 2
  echo "=== $name ($(date -u +%T), limit ${limit}s): $*"
  local t0=$SECONDS
  timeout --kill-after=10 "$limit" "$@"
  local rc=$?
  echo "=== $name: rc=$rc in $((SECONDS - t0)) s"
  [ $rc -eq 0 ] || failed=$((failed + 1))
}

main() {
  if [ ! -x $pack/bin/test_cuda ]; then
    echo "no $pack/bin/test_cuda: run bench/gpu_pack.sh here first and carry build-gpu-pack"
    return 100
  fi
  echo "pack built $(cat $pack/BUILT 2>/dev/null) from commit $(cat $pack/COMMIT 2>/dev/null)"
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm --format=csv || true
  nproc
  export LD_LIBRARY_PATH=$PWD/$pack/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  if ldd $pack/bin/* | grep -q "not found"; then
    echo "some libraries not found; adding the carried libstdc++/libgcc_s"
    export LD_LIBRARY_PATH=$LD_LIBRARY_PATH:$PWD/$pack/lib-fallback
  fi
  ldd $pack/bin/test_cuda | grep -v "=> /lib\|=> /usr/lib" || true
  export SPARSPLAT_DATA_DIR=$PWD/$pack/data
  export OMP_NUM_THREADS=$(nproc)
  export SPARSPLAT_CLI=$PWD/$pack/bin/sparsplat  # the CLI tests of test_cuda

  stage test_cuda 180 $pack/bin/test_cuda --gtest_output=xml:$OUT/test_cuda.xml
  stage test_language_cuda 45 $pack/bin/test_language --gtest_filter='*Cuda*' --gtest_output=xml:$OUT/test_language_cuda.xml
  stage recon_cuda_smoke 60 $pack/bin/sparsplat recon $pack/data/fern --protocol llff --train-views 3 \
    --regularizers off --iterations 300 --device cuda -o /tmp/recon_cuda
  [ -f /tmp/recon_cuda/metrics.json ] && cp /tmp/recon_cuda/metrics.json $OUT/recon_cuda_metrics.json
  stage bench_cuda 240 $pack/bin/bench_cuda --json $OUT/bench_cuda.json
  # Out-of-bounds accesses and races in the small cases (works on Firecracker machines, not gVisor).
  if command -v compute-sanitizer >/dev/null; then
    stage memcheck 45 compute-sanitizer --tool memcheck --error-exitcode 9 $pack/bin/test_cuda \
      --gtest_filter='CudaRasterizer.MatchesCpuOnSmallRandomScenes:CudaTrainKernels.FusedAdam*:CudaTrainKernels.Densification*:CudaTrainer.OneFullStepMatchesCpu'
  fi
  echo "=== done: $failed failed stage(s); files in $OUT: $(ls $OUT | tr '\n' ' ')"
  return $failed
}

main 2>&1 | tee "$log"
exit "${PIPESTATUS[0]}"
