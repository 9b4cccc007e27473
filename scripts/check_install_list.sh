#!/usr/bin/env bash
# Proves scripts/packages.txt is complete: every system header that any cadenza object file
# includes (as recorded by Ninja's dependency log) belongs (dpkg -S) to a package that
# packages.txt lists or that one of them depends on. Usage: check_install_list.sh BUILD_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
[[ -f "$build_dir/build.ninja" ]] || { echo "no Ninja build in $build_dir" >&2; exit 1; }

mapfile -t listed < <(grep -v '^\s*#' scripts/packages.txt | grep -v '^\s*$')
# Everything the listed packages pull in: Depends and Pre-Depends, recursively, read from dpkg's
# own database (no apt lists needed). Alternatives "a | b" count as all of their members.
closure=$(/usr/bin/python3 - "${listed[@]}" <<'PY'
import re, subprocess, sys
seen, todo = set(), list(sys.argv[1:])
while todo:
    name = todo.pop()
    if name in seen:
        continue
    seen.add(name)
    fields = subprocess.run(["dpkg-query", "-W", "-f=${Depends}, ${Pre-Depends}", name],
                            capture_output=True, text=True).stdout
    for item in re.split(r"[,|]", fields):
        dep = item.strip().split(" ")[0].split(":")[0]
        if dep:
            todo.append(dep)
print("\n".join(sorted(seen)))
PY
)

headers=$(ninja -C "$build_dir" -t deps | grep -E '^\s+/usr/' | sed 's/^\s*//' | sort -u)
[[ -n "$headers" ]] || { echo "Ninja recorded no system headers: build first" >&2; exit 1; }

# One dpkg -S call for all headers: lines "package[, package]: /path".
owners=$(xargs -r readlink -f <<<"$headers" | sort -u | xargs -r dpkg -S 2>/dev/null || true)
declare -A owner_of
while IFS= read -r line; do
  owner_of[${line#*: }]=$(cut -d: -f1 <<<"$line" | sed 's/,.*//')
done <<<"$owners"
missing=0
checked=0
declare -A used
while read -r header; do
  real=$(readlink -f "$header")
  package=${owner_of[$real]:-}
  checked=$((checked + 1))
  if [[ -z "$package" ]]; then
    echo "UNOWNED: $header belongs to no Debian package" >&2
    missing=1
  elif ! grep -qx "$package" <<<"$closure"; then
    echo "MISSING: $header comes from $package, which scripts/packages.txt does not install" >&2
    missing=1
  else
    used[$package]=1
  fi
done <<<"$headers"
echo "checked $checked system headers from ${#used[@]} packages: ${!used[*]}"
exit "$missing"
