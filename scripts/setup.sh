#!/usr/bin/env bash
# Installs the Debian packages in scripts/packages.txt that are missing, then configures and
# builds cadenza in build/ (Release, Ninja). Idempotent: a second run installs nothing and
# rebuilds only what changed. Used by quickstart.sh and test.sh.
#   scripts/setup.sh [--with-slurm] [--packages-only]
#   --with-slurm     also the optional list scripts/packages-slurm.txt (a local Slurm cluster)
#   --packages-only  install only; configure and build nothing (what the Slurm tests call from
#                    inside a build tree of any build type)
set -euo pipefail
cd "$(dirname "$0")/.."

lists=(scripts/packages.txt)
build=1
for argument in "$@"; do
  case $argument in
    --with-slurm) lists+=(scripts/packages-slurm.txt) ;;
    --packages-only) build=0 ;;
    *) echo "usage: $0 [--with-slurm] [--packages-only] (got '$argument')" >&2; exit 2 ;;
  esac
done

mapfile -t packages < <(cat "${lists[@]}" | grep -v '^\s*#' | grep -v '^\s*$')
missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if ((${#missing[@]} > 0)); then
  echo "setup: installing missing Debian packages: ${missing[*]}"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "setup: need root or sudo to install ${missing[*]}" >&2; exit 1; }
    sudo_cmd=(sudo)
  fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all ${#packages[@]} Debian packages present"
fi

((build)) || exit 0
jobs=$(nproc)
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$jobs"
