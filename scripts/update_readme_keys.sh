#!/usr/bin/env bash
# Regenerates the config-key table in README.md from the schema (build/cadenza config --explain
# --markdown), between the config-keys markers. A test fails when the README is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
table=$(build/cadenza config --explain --markdown)
/usr/bin/python3 - "$table" <<'PY'
import sys
begin, end = "<!-- config-keys:begin -->", "<!-- config-keys:end -->"
text = open("README.md").read()
head, rest = text.split(begin, 1)
_, tail = rest.split(end, 1)
open("README.md.tmp", "w").write(head + begin + "\n" + sys.argv[1] + "\n" + end + tail)
PY
mv README.md.tmp README.md
