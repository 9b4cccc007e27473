#!/usr/bin/env bash
# The first command a newcomer runs: installs what is missing, builds, finds (or fetches) JSB
# Chorales, then trains the quickstart experiment's three variants on it, lm, seq2seq and
# seq2seq + Luong general attention, and prints their test metrics side by side. Idempotent:
# a variant already trained is reported, not retrained (pass --force to retrain).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

if ! build/cadenza data locate JSB_Chorales >/dev/null 2>&1; then
  scripts/fetch_datasets.sh JSB_Chorales
fi
build/cadenza data locate JSB_Chorales

experiment=experiments/quickstart.json
seq2seq=(model.type=seq2seq data.framing=segments)
declare -A variants=(
  [lm]=""
  [seq2seq]="${seq2seq[*]}"
  [seq2seq+attention]="${seq2seq[*]} model.attention=general model.attention_style=luong"
)
results=()
for name in lm seq2seq seq2seq+attention; do
  echo "quickstart: training $name"
  # shellcheck disable=SC2086
  line=$(build/cadenza train "$experiment" ${variants[$name]} "$@" | tail -1)
  results+=("$name $line")
done

/usr/bin/python3 - "${results[@]}" <<'PY'
import json, sys
print("\nJSB Chorales, test split, full-sequence protocol (frames 2..T of every sequence):")
print(f"| {'variant':<18} | {'test nll':>8} | {'acc':>6} | {'f1':>6} | {'best epoch':>10} | run directory |")
print(f"|{'-'*20}|{'-'*10}|{'-'*8}|{'-'*8}|{'-'*12}|---|")
for entry in sys.argv[1:]:
    name, line = entry.split(" ", 1)
    run_dir = json.loads(line)["run_dir"]
    rows = [json.loads(l) for l in open(f"{run_dir}/metrics.jsonl")]
    test = [r for r in rows if r["split"] == "test"][-1]
    print(f"| {name:<18} | {test['nll']:8.4f} | {test['acc']:6.4f} | {test['f1']:6.4f} | {test['best_epoch']:>10} | {run_dir} |")
PY
