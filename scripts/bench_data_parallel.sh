#!/usr/bin/env bash
# Data-parallel training steps on this machine, in one run (docs/scale.md#measured): for the bench
# model (experiments/bench_lm.json, 2 x 256, B=32, T=128) and the wide one (bench_lm_wide.json,
# 2 x 1024, B=64), `cadenza bench` on 1 rank x 2 threads against 2 ranks x 1 thread (mpirun, one
# core per rank), then 1 rank x 1 thread at the per-rank batch sizes the paper model of
# docs/scale.md needs. Prints the CPU, the date and one JSON line per measurement.
#   scripts/bench_data_parallel.sh [STEPS]     (default 10 timed steps, 4 for the wide model)
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-10}
wide_steps=$(( steps < 4 ? steps : 4 ))
cadenza=${CADENZA:-build/cadenza}
mpirun=(mpirun -np 2 --bind-to core)
[[ $(id -u) -ne 0 ]] || mpirun+=(--allow-run-as-root)
export OMP_WAIT_POLICY=PASSIVE

echo "# $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)," \
  "$("${mpirun[@]}" --version | head -1)"
measure() {  # LABEL RANKS EXPERIMENT STEPS OVERRIDES...
  local label=$1 ranks=$2 experiment=$3 count=$4
  shift 4
  local launcher=()
  ((ranks == 1)) || launcher=("${mpirun[@]}")
  echo "{\"case\": \"$label\", \"result\": $("${launcher[@]}" "$cadenza" bench --config \
    "experiments/$experiment.json" --steps "$count" --warmup 1 "$@")}"
}
for model in bench_lm bench_lm_wide; do
  count=$steps
  [[ $model == bench_lm ]] || count=$wide_steps
  measure "$model 1 rank x 2 threads" 1 "$model" "$count" threads.compute=2
  measure "$model 2 ranks x 1 thread" 2 "$model" "$count" threads.compute=1
done
for batch in 1 4 8 16 32; do
  measure "bench_lm 1 x 1, B=$batch" 1 bench_lm "$steps" threads.compute=1 data.batch_size=$batch
done
for batch in 1 8 32 64; do
  measure "bench_lm_wide 1 x 1, B=$batch" 1 bench_lm_wide "$wide_steps" threads.compute=1 \
    data.batch_size=$batch
done
