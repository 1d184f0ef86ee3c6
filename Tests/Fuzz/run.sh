#!/usr/bin/env bash
# Builds and runs every libFuzzer target of Tests/Fuzz for SECONDS each, two at a
# time, under `nice -n 19` (builds on the machine keep priority).
#   Tests/Fuzz/run.sh SECONDS [TARGET...]     e.g. Tests/Fuzz/run.sh 600; run.sh 30 jpeg png
# Exits non-zero when any target crashed, leaked, timed out (one input over 1 s)
# or passed the memory limits. (A timeout whose input reruns in under 1 s of CPU
# is reported as "starved": the machine was busy, the input is not slow.) A target
# that finds something is restarted (its corpus kept) until its SECONDS are spent,
# so one run can report several findings; each one's input is saved as .build-fuzz/artifacts/TARGET/{crash,leak,
# timeout,oom,starved}-SHA1. Writes a summary table (markdown) to .build-fuzz/summary.md
# (FUZZ_SUMMARY overrides) and prints it. FUZZ_JOBS sets the parallelism (2).
set -euo pipefail
cd "$(dirname "$0")/../.."
[[ $# -ge 1 && $1 =~ ^[0-9]+$ ]] || { echo "usage: $0 SECONDS [TARGET...]" >&2; exit 2; }
SECONDS_EACH=$1; shift
# Swift's own crash backtracer trips over AddressSanitizer; libFuzzer prints the stack.
export SWIFT_BACKTRACE=enable=no
# Leaks inside the toolchain's Foundation, each explained in the file.
export LSAN_OPTIONS=suppressions=$PWD/Tests/Fuzz/lsan.supp:print_suppressions=0
OUT=${FUZZ_BUILD_DIR:-$PWD/.build-fuzz}
SUMMARY=${FUZZ_SUMMARY:-$OUT/summary.md}
JOBS=${FUZZ_JOBS:-2}
ROWS=$OUT/rows-$$  # this run's table rows (another run may share $OUT)
ALL=(jpeg png exif safetensors pth_zip pth_legacy unpickler zip voc_xml coco_json csv yolo predictions serve_request)
TARGETS=("$@"); [[ ${#TARGETS[@]} -gt 0 ]] || TARGETS=("${ALL[@]}")

dictionary() {
    case $1 in
        jpeg|exif) echo jpeg ;; png) echo png ;; pth_zip|pth_legacy|unpickler) echo pickle ;;
        safetensors|coco_json|predictions) echo json ;; voc_xml) echo xml ;; csv) echo csv ;;
        yolo) echo yolo ;; serve_request) echo serve ;; *) echo "" ;;
    esac
}

Tests/Fuzz/build.sh "${TARGETS[@]/#/fuzz_}" 2>&1 | grep -v "Cannot export local symbol" >&2 || true
for t in "${TARGETS[@]}"; do
    [[ -x $OUT/bin/fuzz_$t ]] || { echo "fuzz_$t did not build" >&2; exit 1; }
done

# CPU seconds (user + system) one run of TARGET on INPUT takes.
cpu_seconds() {
    local TIMEFORMAT='%U %S'
    { time nice -n 19 "$OUT/bin/fuzz_$1" "$2" > /dev/null 2>&1; } 2>&1 | awk '{ print $1 + $2 }'
}

# Runs one target for SECONDS_EACH (restarting after each finding); writes its row to $ROWS/$t.
run_target() {
    local t=$1 log=$OUT/logs/$t.log artifacts=$OUT/artifacts/$t/ seeds=$OUT/seeds/$t
    local corpus=$OUT/corpus/$t dict
    rm -rf "$seeds" && python3 Tests/Fuzz/seeds.py "$t" "$seeds" >/dev/null
    mkdir -p "$corpus" "$artifacts"
    dict=$(dictionary "$t")
    local args=(-rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=1 -print_final_stats=1
                -artifact_prefix="$artifacts")
    [[ -n $dict ]] && args+=(-dict=Tests/Fuzz/dict/$dict.dict)
    local start=$SECONDS execs=0 cov=0 ft=0 crashes=0 timeouts=0 starved=0 leaks=0 ooms=0 left
    : > "$log"
    while left=$((SECONDS_EACH - (SECONDS - start))); [[ $left -gt 0 ]]; do
        local part=$OUT/logs/$t.part
        # A hard stop a minute past the budget: libFuzzer's timeout handler can wedge
        # while printing the stack of a busy process (seen once at nice 19).
        timeout -s KILL $((left + 60)) nice -n 19 "$OUT/bin/fuzz_$t" "${args[@]}" -max_total_time="$left" \
            "$corpus" "$seeds" > "$part" 2>&1 || true
        cat "$part" >> "$log"
        execs=$((execs + $(sed -n 's/^stat::number_of_executed_units: *//p' "$part" | tail -1 | grep . || echo 0)))
        local last; last=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$part" | tail -1 || true)
        [[ -n $last ]] && { cov=$(awk '{print $2}' <<<"$last"); ft=$(awk '{print $4}' <<<"$last"); }
        if grep -q "ERROR: LeakSanitizer" "$part"; then leaks=$((leaks + 1))
        elif grep -q "ALARM: working on the last Unit" "$part"; then
            # libFuzzer's timeout is wall-clock; at nice 19 on a busy machine a fast input can
            # wait past it. Rerun the input: under 1 s of CPU it is counted as starved, not a hang.
            local unit; unit=$(sed -n 's/.*Test unit written to \(.*timeout-[0-9a-f]*\)$/\1/p' "$part" | tail -1)
            if [[ -n $unit && $(cpu_seconds "$t" "$unit" | awk '{ print ($1 < 1) }') == 1 ]]; then
                starved=$((starved + 1)); mv "$unit" "${unit/timeout-/starved-}"
            else
                timeouts=$((timeouts + 1))
            fi
        elif grep -q -E "out-of-memory \(|malloc\(.*\) exceeds limit" "$part"; then ooms=$((ooms + 1))
        elif grep -q -E "^==[0-9]+==ERROR|deadly signal|Fatal error|SUMMARY: (Address|libFuzzer)" "$part"; then crashes=$((crashes + 1))
        elif ! grep -q "^Done [0-9]* runs" "$part"; then crashes=$((crashes + 1))  # died without a report
        else break
        fi
    done
    rm -f "$OUT/logs/$t.part"
    echo "| $t | $((SECONDS - start)) | $execs | $cov/$ft | $crashes | $timeouts | $leaks | $ooms | $starved |" > "$ROWS/$t"
    echo "$t: $execs executions, cov $cov ft $ft, crashes $crashes, timeouts $timeouts, leaks $leaks, ooms $ooms, starved $starved" >&2
}

mkdir -p "$OUT/logs" "$ROWS"
rm -f "$ROWS"/*
running=0
for t in "${TARGETS[@]}"; do
    run_target "$t" &
    running=$((running + 1))
    if [[ $running -ge $JOBS ]]; then wait -n || true; running=$((running - 1)); fi
done
wait
# The targets' scratch folders (vision-fuzz-PID), of processes that have ended.
for scratch in /dev/shm/vision-fuzz-* "${TMPDIR:-/tmp}"/vision-fuzz-*; do
    [[ -d $scratch ]] && ! kill -0 "${scratch##*-}" 2>/dev/null && rm -rf "$scratch"
done

{
    echo "Fuzz run $(date -u '+%Y-%m-%d %H:%M UTC'), $SECONDS_EACH s per target, $JOBS at a time, nice 19"
    echo
    echo "| target | seconds | executions | cov/ft | crashes | timeouts | leaks | over limits | starved |"
    echo "|---|---|---|---|---|---|---|---|---|"
    for t in "${TARGETS[@]}"; do cat "$ROWS/$t"; done
} > "$SUMMARY"
rm -rf "$ROWS"
cat "$SUMMARY"
# Columns 6-9 (crashes, timeouts, leaks, over limits) must all be zero.
awk -F'|' '/^\| [a-z_]+ \| [0-9]/ { bad += $6 + $7 + $8 + $9 } END { exit bad > 0 }' "$SUMMARY"
