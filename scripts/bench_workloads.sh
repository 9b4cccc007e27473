#!/usr/bin/env bash
# Times the training workloads that set the time to an answer against a PyTorch peer of each
# (scripts/pytorch_peer.py: the same model, protocol, loss, clipping and optimiser), per epoch:
# the quickstart's three variants, its Luong-additive and Bahdanau variants, Magenta's basic_rnn
# on melodies, and every experiments/reproduce/ config (its base config). Each round trains
# cadenza, then the peer, for 2 epochs; 3 rounds; 1 and then 2 threads. Prints one Markdown row
# per workload and thread count (the per-epoch ratio PyTorch / cadenza, median over the rounds,
# and both peak RSS), then the table. Logic and details: scripts/bench_workloads.py.
#
#   scripts/bench_workloads.sh [--threads 1 2] [--rounds 3] [--epochs 2] [--only REGEX] [--list]
#                              [--out bench_workloads.jsonl] [--cadenza build/cadenza]
#   e.g. scripts/bench_workloads.sh --only 'quickstart|chung2014_.*_jsb' --threads 1
#
# Needs the Debian packages of scripts/setup.sh (python3-torch, python3-h5py, OpenBLAS) and a
# built build/cadenza. The peer runs on Debian's OpenBLAS, OpenMP build, with OMP_NUM_THREADS
# set to the thread count (docs/performance.md). A benchmark, not a test: run it on an otherwise
# idle machine and quote the CPU and the date with its figures.
set -euo pipefail
cd "$(dirname "$0")/.."
exec /usr/bin/python3 scripts/bench_workloads.py "$@"
