#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite with ctest.
#   scripts/test.sh [ctest args]
# With --sanitize, builds a sanitized tree in its own folder instead (build/ is left alone; the
# Debian packages must already be installed, e.g. by scripts/setup.sh) and runs tests there:
#   scripts/test.sh --sanitize address,undefined [ctest args]   build-asan/, the whole suite
#   scripts/test.sh --sanitize thread [ctest args]              build-tsan/, the threaded tests
# The tests run build-*/cadenza as a subprocess, so it is sanitized too. ASan, LSan and TSan
# reports, from any process, go to files under build-*/sanitizer-reports/, and the run fails if
# there is one, even when the test that caused it passed (a test that expects cadenza to fail
# cannot tell). UBSan ignores log_path when it runs inside ASan (GCC 12), so its reports go to
# the process's stderr and it exits with code 87, which no test expects of cadenza.
# Suppressions, each justified in its file: tests/sanitizers/.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ${1:-} != --sanitize ]]; then
  scripts/setup.sh
  cd build
  ctest --output-on-failure -j "$(nproc)" --timeout 900 "$@"
  exit
fi

sanitize=${2:?"--sanitize needs a list: address,undefined or thread"}
shift 2
filter=()
case $sanitize in
  address,undefined | undefined,address) build=build-asan ;;
  # The tests whose code runs on several threads or processes: the loader's TBB pipeline, sweeps
  # and their run locks (tested by SweepRun), and training (OpenMP optimisers, signals, kill and
  # resume). Not LoaderThreadBudget: it counts the process's running threads, and TSan's runtime
  # runs a background thread of its own that the count cannot tell apart (seen once as a third
  # running thread at 2 compute threads and no loader thread).
  thread) build=build-tsan filter=(-R '^(Loader|Sweep|TrainE2E|TrainFaults|ResumeWindows)|Lock'
    -E '^LoaderThreadBudget') ;;
  *) echo "test.sh: --sanitize takes address,undefined or thread, not '$sanitize'" >&2; exit 2 ;;
esac

reports=$PWD/$build/sanitizer-reports
supp=$PWD/tests/sanitizers
common="halt_on_error=1:log_path=$reports/report"
export ASAN_OPTIONS="$common:detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:exitcode=87"
# history_size and suppress_equal_addresses: see tests/sanitizers/tsan.supp.
export TSAN_OPTIONS="$common:second_deadlock_stack=1:history_size=7:suppress_equal_addresses=0:suppressions=$supp/tsan.supp"
rm -rf "$reports"
mkdir -p "$reports"

# The build runs the test binary once (gtest_discover_tests lists the tests), under these options.
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCADENZA_SANITIZE="$sanitize" \
  >/dev/null
cmake --build "$build" -j "$(nproc)"
status=0
(cd "$build" && ctest --output-on-failure -j "$(nproc)" --timeout 900 "${filter[@]}" "$@") ||
  status=$?
if compgen -G "$reports/report.*" >/dev/null; then
  for report in "$reports"/report.*; do
    echo "=== $report"
    cat "$report"
  done
  echo "test.sh: the sanitizers reported the problems above" >&2
  status=1
fi
exit "$status"
