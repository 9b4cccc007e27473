#!/usr/bin/env bash
# Downloads the classic polyphonic benchmarks listed in datasets/polyphonic.tsv into
# datasets/cache/ and checks each file's sha256. Usage: scripts/fetch_datasets.sh [NAME...]
# (default: all four). A file already present with the right checksum is kept. Nothing is left
# half-written: downloads go to a temp file that is renamed only after the checksum matches.
set -euo pipefail
cd "$(dirname "$0")/.."
cache=datasets/cache
mkdir -p "$cache"
wanted=("$@")
status=0
while IFS=$'\t' read -r name file sha256 _train _valid _test url; do
  [[ -z "$name" || "$name" == \#* ]] && continue
  if ((${#wanted[@]} > 0)) && [[ ! " ${wanted[*]} " == *" $name "* ]]; then continue; fi
  target="$cache/$file"
  if [[ -f "$target" ]] && echo "$sha256  $target" | sha256sum --check --status; then
    echo "fetch: $name present ($target)"
    continue
  fi
  temp="$cache/.$file.$$.tmp"
  echo "fetch: $name <- $url"
  if ! curl --fail --silent --show-error --location --max-time 300 --output "$temp" "$url"; then
    rm -f "$temp"
    echo "fetch: could not download $name from $url (offline?). Copy $file into $cache/ or" \
      "point \$CADENZA_DATA at a folder holding it." >&2
    status=1
    continue
  fi
  if ! echo "$sha256  $temp" | sha256sum --check --status; then
    echo "fetch: $name: sha256 mismatch (expected $sha256, got $(sha256sum "$temp" | cut -d' ' -f1)); discarded" >&2
    rm -f "$temp"
    status=1
    continue
  fi
  mv "$temp" "$target"
  echo "fetch: $name ok ($target)"
done < datasets/polyphonic.tsv
exit "$status"
