#!/usr/bin/env bash
# Fuzzes one of cadenza's readers with libFuzzer.
#
#   scripts/fuzz.sh TARGET [SECONDS [LIBFUZZER FLAGS...]]
#                                        TARGET: config | dataset | checkpoint | mat | midi
#                                        SECONDS: default 60 (or $FUZZ_SECONDS)
#                                        further flags go to libFuzzer (e.g. -runs=0)
#
# config: an experiment file, an "extends" fragment and overrides (config/resolve.hpp);
# dataset: a cadenza .h5 dataset (data/dataset.hpp); checkpoint: a checkpoint .h5
# (train/checkpoint_format.hpp); mat: a .mat benchmark (data/mat_import.hpp); midi: a Standard
# MIDI File (data/midi.hpp), with the writer round trip. tests/fuzz/fuzz_feeds.hpp says how each input
# reaches its reader; cadenza::Error is the expected refusal of a bad input.
#
# Configures build-fuzz/ (or $FUZZ_BUILD_DIR) with Debian's clang and -DCADENZA_FUZZ=ON, builds
# fuzz_TARGET (-fsanitize=fuzzer,address,undefined), and fuzzes for SECONDS with the working
# corpus build-fuzz/corpus/TARGET, seeded from tests/fuzz/corpus/TARGET/ (and, for midi,
# ../shared/midi/test-midi-files) and the tokens of tests/fuzz/dict/TARGET.dict. Installs clang
# and libclang-rt-14-dev with apt only when the fuzzer runtime is missing. Exits non-zero on a
# finding (any other exception, crash, sanitizer report, timeout, leak or memory blow-up) and
# leaves the input as build-fuzz/TARGET-crash-* (or -timeout-, -leak-, -oom-): fix the reader, put
# the file under tests/fuzz/regressions/TARGET/ and tests/fuzz_regressions/ replays it.
#
# FUZZ_KEEP_GOING=1 runs libFuzzer in fork mode and keeps fuzzing after a finding (each one is
# still saved, and the exit status is still non-zero): for libhdf5 1.10 and libmatio, whose own
# memory errors and huge allocations on malformed files would otherwise end a dataset, checkpoint
# or mat run within seconds.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
targets="config dataset checkpoint mat midi"
target="${1:-}"
if [[ " $targets " != *" $target "* ]]; then
  echo "usage: scripts/fuzz.sh TARGET [SECONDS [LIBFUZZER FLAGS...]]" >&2
  echo "  TARGET: ${targets// / | }" >&2
  exit 2
fi
seconds="${2:-${FUZZ_SECONDS:-60}}"
shift $(($# < 2 ? $# : 2))
out="${FUZZ_BUILD_DIR:-$root/build-fuzz}"
mkdir -p "$out/corpus/$target"

# A fuzz target that compiles and links proves clang and the fuzzer runtime are present.
have_libfuzzer() {
  command -v clang++ >/dev/null 2>&1 || return 1
  printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' |
    clang++ -fsanitize=fuzzer -x c++ - -o "$out/.probe" >/dev/null 2>&1
}
if ! have_libfuzzer; then
  echo "fuzz: installing clang and libclang-rt-14-dev with apt"
  sudo_cmd=""
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq clang libclang-rt-14-dev
  have_libfuzzer || { echo "fuzz: clang++ -fsanitize=fuzzer still fails" >&2; exit 1; }
fi
rm -f "$out/.probe"

# -O1 -g without NDEBUG: fast enough to fuzz, with line numbers and assertions.
if [ ! -f "$out/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S "$root" -B "$out" -G Ninja -DCADENZA_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
    -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g"
fi
echo "fuzz: building $out/tests/fuzz/fuzz_$target"
cmake --build "$out" --target "fuzz_$target"

seeds=("$root/tests/fuzz/corpus/$target")
options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
  -artifact_prefix="$out/$target-")
if [ -f "$root/tests/fuzz/dict/$target.dict" ]; then
  options+=(-dict="$root/tests/fuzz/dict/$target.dict")
fi
if [ "$target" = midi ]; then
  if [ -d "$root/../shared/midi/test-midi-files" ]; then
    seeds+=("$root/../shared/midi/test-midi-files")
  fi
  options+=(-max_len=65536)
fi
if [ "${FUZZ_KEEP_GOING:-0}" = 1 ]; then
  options+=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
fi
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
# The targets' scratch files (and fork mode's) go to a folder of this run, removed at the end: a
# process that crashed cannot remove its own.
scratch="$(mktemp -d "$out/tmp-$target.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
export TMPDIR="$scratch"

echo "fuzz: fuzzing $target for ${seconds}s (corpus $out/corpus/$target, seeds ${seeds[*]})"
cd "$out"
touch "$out/.fuzz-start-$target"
status=0
"$out/tests/fuzz/fuzz_$target" "${options[@]}" "$@" "$out/corpus/$target" "${seeds[@]}" || status=$?
findings="$(find "$out" -maxdepth 1 -name "$target-*" -newer "$out/.fuzz-start-$target")"
rm -f "$out/.fuzz-start-$target"
if [ "$status" -ne 0 ] || [ -n "$findings" ]; then
  echo "fuzz: $target found a problem (exit $status); $(echo "$findings" | grep -c .) input(s)" \
    "saved as $out/$target-*" >&2
  exit $((status != 0 ? status : 1))
fi
