#!/usr/bin/env bash
# Regenerates the config-key table in docs/configs.md from the schema (build/cadenza config
# --explain --markdown), between the config-keys markers. A test (tests/config/test_config.cpp,
# Config.ConfigDocsKeyTableIsCurrent) fails when the table is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
table=$(build/cadenza config --explain --markdown)
/usr/bin/python3 - "$table" <<'PY'
import sys
path = "docs/configs.md"
begin, end = "<!-- config-keys:begin -->", "<!-- config-keys:end -->"
text = open(path).read()
if begin not in text or end not in text:
    sys.exit(f"update_config_docs: {path} lacks the {begin} / {end} markers")
head, rest = text.split(begin, 1)
_, tail = rest.split(end, 1)
open(path + ".tmp", "w").write(head + begin + "\n" + sys.argv[1] + "\n" + end + tail)
PY
mv docs/configs.md.tmp docs/configs.md
