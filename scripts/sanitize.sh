#!/usr/bin/env bash
# Runs the test suite under a sanitizer, built apart under .build/sanitize-<kind>:
#
#   scripts/sanitize.sh address|thread [FILTER]
#
# address: AddressSanitizer + LeakSanitizer (heap and stack overflows, use after free, leaks);
# thread: ThreadSanitizer (data races: the worker pool, the server, the folder pipeline). FILTER is
# passed to `swift test --filter`. What the sanitizers need besides (LeakSanitizer suppressions, a
# ThreadSanitizer shim for Synchronization.Mutex), each with its reason, is in scripts/sanitizers/.
# Exits non-zero when a test fails or the sanitizer reports anything.
set -euo pipefail
cd "$(dirname "$0")/.."
kind="${1:-}"
filter="${2:-}"
case "$kind" in
  address)
    export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1"
    export LSAN_OPTIONS="suppressions=$PWD/scripts/sanitizers/lsan.supp:print_suppressions=0"
    ;;
  thread)
    export TSAN_OPTIONS="halt_on_error=0:second_deadlock_stack=1"
    ;;
  *) echo "usage: scripts/sanitize.sh address|thread [FILTER]" >&2; exit 2 ;;
esac
# The Swift runtime's backtracer would take the signals the sanitizers report with.
export SWIFT_BACKTRACE=enable=no
scratch=".build/sanitize-$kind"
nice -n 10 swift build --build-tests --sanitize="$kind" --scratch-path "$scratch"
if [ "$kind" = thread ]; then
  # Contended Synchronization.Mutex sections hand over inside libswiftSynchronization, out of
  # ThreadSanitizer's sight; the wrappers in tsan_mutex.c tell it (see there).
  clang -shared -fPIC -O2 scripts/sanitizers/tsan_mutex.c -o "$scratch/libtsan_mutex.so" -ldl
  export LD_PRELOAD="$PWD/$scratch/libtsan_mutex.so${LD_PRELOAD:+:$LD_PRELOAD}"
fi
swift test --skip-build --sanitize="$kind" --scratch-path "$scratch" ${filter:+--filter "$filter"}
