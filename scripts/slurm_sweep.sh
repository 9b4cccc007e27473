#!/usr/bin/env bash
# One shard of a cadenza sweep, or of a cadenza search, per Slurm array task.
#
#   sbatch --array=0-7 scripts/slurm_sweep.sh experiments/reproduce/attention_ablation_jsb.json
#   sbatch --array=0-7 --cpus-per-task=4 scripts/slurm_sweep.sh EXPERIMENT --jobs 2
#   sbatch --array=0-3 scripts/slurm_sweep.sh search EXPERIMENT --jobs 2
#
# Task k of an array of n tasks runs `cadenza sweep EXPERIMENT --shard i/n` (or, when the first
# argument is `search`, `cadenza search EXPERIMENT --shard i/n`) with
# i = (SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN) / SLURM_ARRAY_TASK_STEP, so the n tasks train
# disjoint parts of the plan (any --array range or step works; n must not change between
# submissions of the same sweep, or the parts are drawn again). Arguments after EXPERIMENT go to
# `cadenza sweep` (--jobs N, --sweeps-dir DIR, --retry-failed) or `cadenza search` (--jobs N,
# --searches-dir DIR). A search's tasks wait for each other at every rung and before they end
# (its confirmation runs), so submit all n at once, on nodes that run them together.
#
# The tasks share results/sweeps/<name>/ (results/searches/<name>/) on a file system with
# flock(2) (local disks, NFSv4, Lustre mounted with -o flock): a task that is requeued or
# resubmitted resumes its runs from their checkpoints, and skips what is done. Each worker gets the
# task's CPUs divided by --jobs (Slurm's cgroup or affinity mask is what cadenza sees as the
# cores). When every task has finished, `cadenza sweep EXPERIMENT --status` (`cadenza search
# EXPERIMENT --status`) lists where every run stands.
#
# Run from the project root (the default of sbatch is the submission directory). The binary is
# $CADENZA, by default build/cadenza.
#SBATCH --job-name=cadenza-sweep
#SBATCH --cpus-per-task=2
#SBATCH --output=slurm-%A_%a.out
set -euo pipefail

command=sweep
if [[ "${1:-}" == "search" || "${1:-}" == "sweep" ]]; then
  command=$1
  shift
fi
if [[ $# -lt 1 ]]; then
  echo "usage: sbatch --array=0-(n-1) $0 [sweep|search] EXPERIMENT [options of that command]" >&2
  exit 2
fi
if [[ -z "${SLURM_ARRAY_TASK_ID:-}" || -z "${SLURM_ARRAY_TASK_COUNT:-}" ]]; then
  echo "$0: SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT are not set: submit this script with" \
    "sbatch --array=..., or run 'cadenza ${command} EXPERIMENT --shard i/n' directly" >&2
  exit 2
fi

experiment=$1
shift
index=$(( (SLURM_ARRAY_TASK_ID - ${SLURM_ARRAY_TASK_MIN:-0}) / ${SLURM_ARRAY_TASK_STEP:-1} ))
shard="${index}/${SLURM_ARRAY_TASK_COUNT}"
cadenza=${CADENZA:-build/cadenza}

echo "slurm task ${SLURM_ARRAY_TASK_ID}: ${cadenza} ${command} ${experiment}" \
  "--shard ${shard} $*" >&2
exec "${cadenza}" "${command}" "${experiment}" --shard "${shard}" "$@"
