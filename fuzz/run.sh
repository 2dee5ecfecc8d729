#!/usr/bin/env bash
# Fuzzes the signature header, signed deliveries, the delivery decoder with the projector's JSON
# scanner, and stored facts, with libFuzzer and AddressSanitizer, for $1 seconds (default 300).
#
#     fuzz/run.sh 600          # or: make fuzz FUZZ_SECONDS=600
#
# Builds availd-fuzz into .build-fuzz, seeds it from fixtures/ (fuzz/seeds.py) and the saved
# regressions (fuzz/regressions/), and keeps what it learns in .build-fuzz/corpus for the next
# run. A failing input is saved as .build-fuzz/crash-<sha1>; `swift run availd-fuzz FILE` replays it.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-300}"
scratch=.build-fuzz
# `--sanitize fuzzer` makes SwiftPM link libFuzzer's main; swiftc keeps only the last
# `-sanitize=`, so the Swift code gets both coverage and AddressSanitizer from the -Xswiftc one.
build=("${SWIFT:-swift}" build -c release --product availd-fuzz --scratch-path "$scratch"
    --sanitize fuzzer -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING)

begun=$(date +%s)
mkdir -p "$scratch"
if ! "${build[@]}" >"$scratch/build.log" 2>&1; then
    grep -E "error:" "$scratch/build.log" >&2 || tail -40 "$scratch/build.log" >&2
    echo "fuzz: the build failed; full log: $scratch/build.log" >&2
    exit 1
fi
fuzzer="$("${build[@]}" --show-bin-path)/availd-fuzz"
built=$(date +%s)

mkdir -p "$scratch/corpus" "$scratch/seeds"
python3 fuzz/seeds.py "$scratch/seeds"
log="$scratch/fuzz.log"
status=0
started=$(date +%s)
SWIFT_BACKTRACE=enable=no "$fuzzer" "$scratch/corpus" "$scratch/seeds" fuzz/regressions \
    -max_total_time="$seconds" -timeout=10 -max_len=16384 -use_value_profile=1 \
    -dict=fuzz/availd.dict -artifact_prefix="$scratch/" -print_final_stats=1 >"$log" 2>&1 || status=$?

fuzzed=$(($(date +%s) - started))
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
echo "fuzz: built in $((built - begun)) s; ${runs:-?} inputs in ${fuzzed} s (stat::number_of_executed_units), corpus $(ls "$scratch/corpus" | wc -l) files"
if [ "$status" -ne 0 ]; then
    grep -E "Fatal error|ERROR: AddressSanitizer|^SUMMARY|^MS:|Test unit written" "$log" >&2 || tail -40 "$log" >&2
    echo "fuzz: failed (exit $status); the input is in $scratch/crash-*; full log: $log" >&2
    exit "$status"
fi
