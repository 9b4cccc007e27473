#!/usr/bin/env bash
# The first command a newcomer runs: installs what is missing, builds, and runs the quickstart
# experiment (experiments/quickstart.json). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo "quickstart: resolved config of experiments/quickstart.json"
build/cadenza config --dump experiments/quickstart.json
