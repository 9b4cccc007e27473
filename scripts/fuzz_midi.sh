#!/usr/bin/env bash
# Fuzzes the MIDI reader (and writer round trip, piano-roll conversion) with libFuzzer.
#
#   scripts/fuzz_midi.sh [SECONDS]        default 60 (or $FUZZ_SECONDS)
#
# Builds build-fuzz/fuzz_midi with Debian's clang (-fsanitize=fuzzer,address,undefined), seeds a
# working corpus with ../shared/midi/test-midi-files, and fuzzes for SECONDS. Installs clang and
# libclang-rt-14-dev with apt only when the fuzzer runtime is missing. Exits non-zero when a
# crash is found; the input is saved as build-fuzz/crash-* (turn it into a regression file under
# tests/data/midi_regressions/ with a test that parses it).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-${FUZZ_SECONDS:-60}}"
out="${FUZZ_BUILD_DIR:-$root/build-fuzz}"
seeds="$root/../shared/midi/test-midi-files"
mkdir -p "$out/corpus"

# A fuzz target that compiles and links proves clang and the fuzzer runtime are present.
have_libfuzzer() {
  command -v clang++ >/dev/null 2>&1 || return 1
  printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' |
    clang++ -fsanitize=fuzzer -x c++ - -o "$out/.probe" >/dev/null 2>&1
}
if ! have_libfuzzer; then
  echo "fuzz_midi: installing clang and libclang-rt-14-dev with apt"
  sudo_cmd=""
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq clang libclang-rt-14-dev
  have_libfuzzer || { echo "fuzz_midi: clang++ -fsanitize=fuzzer still fails" >&2; exit 1; }
fi
rm -f "$out/.probe"

sources=(
  "$root/tests/fuzz/fuzz_midi.cpp"
  "$root/framework/data/midi_reader.cpp"
  "$root/framework/data/midi_writer.cpp"
  "$root/framework/data/piano_roll_convert.cpp"
  "$root/framework/core/atomic_file.cpp"
)
echo "fuzz_midi: building $out/fuzz_midi"
clang++ -std=c++20 -O1 -g -fno-omit-frame-pointer \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$root/framework" "${sources[@]}" -lfmt -o "$out/fuzz_midi"

# Tokens of the format help the fuzzer build chunk headers and meta events.
cat >"$out/midi.dict" <<'DICT'
"MThd"
"MTrk"
"\x00\x00\x00\x06"
"\xFF\x2F\x00"
"\xFF\x51\x03"
"\xFF\x58\x04"
"\xFF\x03"
"\xF0"
"\xF7"
DICT

echo "fuzz_midi: fuzzing for ${seconds}s (corpus $out/corpus, seeds $seeds)"
cd "$out"
./fuzz_midi -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
  -dict="$out/midi.dict" -artifact_prefix="$out/" -print_final_stats=1 \
  "$out/corpus" "$seeds"
