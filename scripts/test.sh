#!/usr/bin/env bash
# Cairn's full test run (README: `scripts/test.sh`; CI: .ci/run). Three stages:
#   1. RelWithDebInfo build in build/, every ctest (unit, integration, interop);
#   2. ASan+UBSan build in build-asan/, unit tests and the integration suite;
#   3. clang libFuzzer build in build-fuzz/, the RESP parser, the RDB loader and the
#      secure channel's record reader fuzzed for a bounded time (a third each) from
#      tests/fuzz/corpus/{resp,rdb,channel}.
# Every stage runs even if an earlier one failed; the exit code is non-zero if
# any failed. Knobs: CAIRN_JOBS (2), CAIRN_FUZZ_SECONDS (60), CAIRN_STAGES
# ("release asan fuzz").
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=${CAIRN_JOBS:-2}
fuzz_seconds=${CAIRN_FUZZ_SECONDS:-60}
stages=${CAIRN_STAGES:-release asan fuzz}
failed=()
start=$SECONDS

log() { printf '\n==> [%4ds] %s\n' $((SECONDS - start)) "$*"; }
want() { [[ " $stages " == *" $1 "* ]]; }
# ctest in build dir $1 (more ctest args follow); the output is also kept in
# $1/ctest.log so the end of the run can repeat what failed.
run_ctest() {
  local dir=$1
  shift
  (cd "$dir" && ctest --output-on-failure -j"$jobs" --timeout 900 "$@" 2>&1 | tee ctest.log
    exit "${PIPESTATUS[0]}")
}

log "dependencies"
scripts/install-deps.sh

if want release; then
  log "release build (build/)"
  if cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null &&
    ninja -C build -j"$jobs"; then
    log "ctest in build/"
    run_ctest build || failed+=("release ctest")
  else
    failed+=("release build")
  fi
fi

if want asan; then
  log "ASan+UBSan build (build-asan/)"
  export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1:strict_string_checks=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  if cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCAIRN_SANITIZE=ON \
    >/dev/null && ninja -C build-asan -j"$jobs"; then
    log "ctest (unit + integration) in build-asan/"
    run_ctest build-asan -R '^(unit\.|integration$)' || failed+=("asan ctest")
  else
    failed+=("asan build")
  fi
fi

if want fuzz; then
  log "libFuzzer build (build-fuzz/)"
  if CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCAIRN_FUZZ=ON -DCAIRN_TESTS=OFF >/dev/null &&
    ninja -C build-fuzz -j"$jobs" resp_parser_fuzz rdb_loader_fuzz channel_records_fuzz; then
    # The budget is split in thirds: the RESP parser, the channel's records, the RDB
    # loader gets the rest (each at least 1 s: libFuzzer reads -max_total_time=0 as
    # "no limit").
    resp_seconds=$((fuzz_seconds / 3 > 0 ? fuzz_seconds / 3 : 1))
    channel_seconds=$resp_seconds
    rdb_seconds=$((fuzz_seconds - 2 * resp_seconds > 0 ? fuzz_seconds - 2 * resp_seconds : 1))
    log "fuzzing the RESP parser for ${resp_seconds}s"
    # New inputs go to a scratch dir; the checked-in seed corpus stays as it is.
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    mkdir -p "$work/resp" "$work/rdb" "$work/channel"
    build-fuzz/tests/fuzz/resp_parser_fuzz -max_total_time="$resp_seconds" -timeout=10 \
      -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 -artifact_prefix=build-fuzz/ \
      "$work/resp" tests/fuzz/corpus/resp || failed+=("fuzz (crash input in build-fuzz/)")
    log "fuzzing the secure channel's record reader for ${channel_seconds}s"
    build-fuzz/tests/fuzz/channel_records_fuzz -max_total_time="$channel_seconds" -timeout=10 \
      -rss_limit_mb=2048 -max_len=200000 -print_final_stats=1 -artifact_prefix=build-fuzz/ \
      "$work/channel" tests/fuzz/corpus/channel || failed+=("fuzz channel (crash input in build-fuzz/)")
    log "fuzzing the RDB loader for ${rdb_seconds}s"
    # The shared RDB vectors, when present, are an extra read-only corpus (libFuzzer
    # writes new inputs only to the first dir, the scratch one).
    rdb_corpus=(tests/fuzz/corpus/rdb)
    if [[ -d ../shared/vectors/rdb ]]; then rdb_corpus+=(../shared/vectors/rdb); fi
    build-fuzz/tests/fuzz/rdb_loader_fuzz -max_total_time="$rdb_seconds" -timeout=10 \
      -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 -artifact_prefix=build-fuzz/ \
      "$work/rdb" "${rdb_corpus[@]}" || failed+=("fuzz rdb (crash input in build-fuzz/)")
  else
    failed+=("fuzz build")
  fi
fi

log "done"
if ((${#failed[@]})); then
  # Repeat the failing tests' names and pytest's short summaries last, where a
  # reader of only the tail of the log sees them.
  for f in build/ctest.log build-asan/ctest.log; do
    [[ -f $f ]] && grep -h -E '^(FAILED|ERROR) |\*\*\*Failed|Failed +[0-9.]+ sec|^[^ ].*:[0-9]+: FAILED:' "$f" |
      sed "s|^|$f: |" | tail -40
  done
  printf 'FAILED stages: %s\n' "${failed[*]}"
  exit 1
fi
echo "all stages passed"
