#!/usr/bin/env bash
# Runs reproductions of experiments/reproduce/ (or other sweeps) into results/studies/<name>/,
# one after the other, resumably, and regenerates each one's comparison from its records.
#
#   scripts/study.sh [--jobs N] NAME|EXPERIMENT.json...
#   e.g. scripts/study.sh --jobs 2 bai2018_gru_jsb chung2014_gru_jsb
#        scripts/study.sh experiments/quickstart_seeds.json
#
# A NAME is `cadenza reproduce NAME --sweeps-dir results/studies`: the sweep's state, every run's
# config.json, manifest.json, metrics.jsonl/.csv and log, and the verdict.json of the
# reproduction land in results/studies/NAME/ (for a reproduction by search, the search's folder:
# its trials, decisions, report and confirmation runs). An EXPERIMENT.json is `cadenza sweep
# EXPERIMENT --sweeps-dir results/studies`, or `cadenza search EXPERIMENT --searches-dir
# results/studies` when the file itself has a `search` block (its folder is named after the
# experiment's `name`). Then
# `cadenza compare` on the folder writes its compare/ report. These records are what
# results/README.md rests on and are committed; the checkpoints and lock files beside them are
# not (.gitignore). Killed at any moment, the script continues where it stopped when run again:
# finished runs are skipped, unfinished ones resume from their checkpoints (a run whose records
# were committed but whose checkpoints are gone, as in a fresh clone, trains again from the
# start). A reproduction that trains fine but misses the published number
# (exit 6) is a result, not an error: the script goes on to the next NAME.
#
# Run from the project root; the binary is $CADENZA, by default build/cadenza.
set -euo pipefail

jobs=1
if [[ "${1:-}" == "--jobs" ]]; then
  jobs="${2:?--jobs needs a number}"
  shift 2
fi
if [[ $# -lt 1 ]]; then
  echo "usage: $0 [--jobs N] NAME...   (names: build/cadenza reproduce --list)" >&2
  exit 2
fi
cadenza="${CADENZA:-build/cadenza}"
studies=results/studies

for name in "$@"; do
  echo "study: $name ($(date -u +%FT%TZ))"
  status=0
  if [[ $name == *.json ]] &&
    /usr/bin/python3 -c 'import json,sys; sys.exit("search" not in json.load(open(sys.argv[1])))' \
      "$name"; then
    line=$("$cadenza" search "$name" --jobs "$jobs" --searches-dir "$studies" | tail -1) ||
      status=$?
    folder=$(/usr/bin/python3 -c 'import json,sys; print(json.loads(sys.argv[1])["search_dir"])' \
      "$line" 2>/dev/null || true)
  elif [[ $name == *.json ]]; then
    line=$("$cadenza" sweep "$name" --jobs "$jobs" --sweeps-dir "$studies" | tail -1) || status=$?
    folder=$(/usr/bin/python3 -c 'import json,sys; print(json.loads(sys.argv[1])["sweep_dir"])' \
      "$line" 2>/dev/null || true)
  else
    "$cadenza" reproduce "$name" --jobs "$jobs" --sweeps-dir "$studies" || status=$?
    folder=$studies/$name
  fi
  if [[ $status -ne 0 && $status -ne 6 ]]; then
    echo "study: $name stopped with exit $status; rerun to resume" >&2
    exit "$status"
  fi
  # A search without confirmation runs has only its trials to compare.
  if [[ -f $folder/search.json && ! -d $folder/confirm ]]; then
    folder=$folder/runs
  fi
  # Piano rolls: nll, acc and f1; melody token runs (they log event_accuracy): compare's own five.
  metrics=(--metrics nll,acc,f1)
  if grep -rqs --include=metrics.jsonl event_accuracy "$folder"; then metrics=(); fi
  "$cadenza" compare "$folder" "${metrics[@]}" > /dev/null
  echo "study: $name done ($(date -u +%FT%TZ)), records in $folder"
done
