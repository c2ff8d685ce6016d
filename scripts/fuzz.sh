#!/usr/bin/env bash
# Fuzzes the readers and the server with libFuzzer (targets in Fuzz/Targets, `sam2-fuzz --list`):
#
#   scripts/fuzz.sh [--seconds N] [--runs R] [--parallel P] [--no-build] [TARGET…]
#
# Builds sam2-fuzz with -sanitize=fuzzer,address under .build/fuzz/build, then runs each target (all by
# default) for N seconds (default 60) or R executions if that comes first, P at a time (default 1), at
# low priority. Issue 16's figures: --seconds 3600 --runs 10000000. Corpora grow under
# .build/fuzz/corpus/<target>, seeded from the committed fixtures (.build/fuzz/seeds/<target>) and the
# saved findings. A crash, leak, timeout or out-of-memory is minimised and saved as
# Tests/SAM2FuzzTests/Fixtures/fuzz-regressions/<target>/<kind>-<hash>, which `swift test` replays;
# the script then exits 1. Figures per target (executions, exec/s, cov, ft) go to stdout and
# .build/fuzz/summary.tsv; libFuzzer's logs to .build/fuzz/logs/<target>.log.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=60
runs=-1
parallel=1
build=1
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --parallel) parallel="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done

root=.build/fuzz
bin="$root/build/release/sam2-fuzz"
regressions=Tests/SAM2FuzzTests/Fixtures/fuzz-regressions
if [ "$build" = 1 ]; then
  echo "fuzz.sh: building sam2-fuzz (libFuzzer + AddressSanitizer)" >&2
  nice -n 10 swift build -c release --product sam2-fuzz --scratch-path "$root/build" \
    --sanitize fuzzer -Xswiftc -sanitize=fuzzer,address -Xswiftc -DSAM2_LIBFUZZER >&2
fi

# The Swift runtime's backtracer would take the crash signals that libFuzzer reports.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0:detect_stack_use_after_return=0}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$PWD/scripts/sanitizers/lsan.supp:print_suppressions=0}"

declare -A max_len timeout_s
while read -r name len timeout; do
  max_len[$name]=$len
  timeout_s[$name]=$timeout
done < <("$bin" --list)
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <("$bin" --list | cut -d' ' -f1)
fi
for t in "${targets[@]}"; do
  [ -n "${max_len[$t]:-}" ] || { echo "fuzz.sh: no target $t (have: ${!max_len[*]})" >&2; exit 2; }
done
mkdir -p "$root/logs"
[ -f "$root/summary.tsv" ] || printf 'date\ttarget\tseconds\texecutions\texec_per_s\tcov\tft\tcorpus\tpeak_rss_mb\tresult\n' \
  > "$root/summary.tsv"

# Runs one target; prints its figures; returns 1 when it found something.
fuzz_one() {
  local t="$1"
  local corpus="$root/corpus/$t" seeds="$root/seeds/$t" artifacts="$root/artifacts/$t" log="$root/logs/$t.log"
  rm -rf "$seeds" "$artifacts" "$log.minimise"
  mkdir -p "$corpus" "$artifacts"
  "$bin" --target="$t" --write-seeds="$seeds"
  local dirs=("$corpus" "$seeds")
  [ -d "$regressions/$t" ] && dirs+=("$regressions/$t")
  local start=$SECONDS status=0
  nice -n 15 "$bin" --target="$t" -max_total_time="$seconds" -runs="$runs" -max_len="${max_len[$t]}" \
    -timeout="${timeout_s[$t]}" -rss_limit_mb=2560 -malloc_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "${dirs[@]}" > "$log" 2>&1 || status=$?
  local found=0
  for artifact in "$artifacts"/*; do
    [ -f "$artifact" ] || continue
    local kind
    kind=$(basename "$artifact"); kind=${kind%%-*}
    if [ "$kind" = slow ]; then
      # Slower than 10 s but under the timeout: reported, not a finding.
      echo "fuzz.sh: $t: a slow input (log: $log): $artifact" >&2
      continue
    fi
    local minimised="$artifact.min"
    cp "$artifact" "$minimised"
    if [ "$kind" = crash ] || [ "$kind" = leak ]; then
      nice -n 15 "$bin" --target="$t" -minimize_crash=1 -max_total_time=60 -timeout="${timeout_s[$t]}" \
        -exact_artifact_path="$minimised" "$artifact" >> "$log.minimise" 2>&1 || true
    fi
    mkdir -p "$regressions/$t"
    local saved
    saved="$regressions/$t/$kind-$(sha1sum < "$minimised" | cut -c1-12)"
    cp "$minimised" "$saved"
    echo "fuzz.sh: $t: $kind saved as $saved (log: $log)" >&2
    found=1
  done
  if [ "$found" = 0 ] && [ "$status" != 0 ]; then
    echo "fuzz.sh: $t: libFuzzer exited with $status without an artifact (log: $log)" >&2
    found=1
  fi
  local execs rate cov ft corp rss
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
  local last
  last=$(grep -E '^#[0-9]+' "$log" | grep ' cov: ' | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<< "$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<< "$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9]*[a-zA-Z]*\).*/\1/p' <<< "$last")
  [ -n "$execs" ] || execs=$(sed -n 's/^#\([0-9]*\).*/\1/p' <<< "$last")
  local result=ok
  [ "$found" = 0 ] || result=FOUND
  printf '%-17s %6ss %12s execs %8s exec/s  cov %6s  ft %7s  corpus %-12s rss %5s MB  %s\n' "$t" \
    "$((SECONDS - start))" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "${rss:-?}" "$result"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$t" "$((SECONDS - start))" \
    "${execs:-}" "${rate:-}" "${cov:-}" "${ft:-}" "${corp:-}" "${rss:-}" "$result" >> "$root/summary.tsv"
  [ "$found" = 0 ]
}

failed=0
running=0
for t in "${targets[@]}"; do
  if [ "$parallel" -gt 1 ]; then
    fuzz_one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$parallel" ]; then
      wait -n || failed=1
      running=$((running - 1))
    fi
  else
    fuzz_one "$t" || failed=1
  fi
done
while [ "$running" -gt 0 ]; do
  wait -n || failed=1
  running=$((running - 1))
done
if [ "$failed" != 0 ]; then
  echo "fuzz.sh: findings saved under $regressions; replay them with swift test --filter SAM2FuzzTests" >&2
fi
exit "$failed"
