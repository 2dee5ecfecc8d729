#!/usr/bin/env bash
# `make bench`: ingest throughput and latency of a release build, durable (synchronous=FULL),
# with the load generator on the same machine. Writes bench/results/ingest-<time>.{txt,json}.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh

count="${BENCH_COUNT:-60000}"
concurrency="${BENCH_CONCURRENCY:-64}"
bin="$(swift build -c release --show-bin-path)"
work="$(mktemp -d)"
new_results
key="bench-signing-key"

daemon=""
trap 'kill $daemon 2>/dev/null; wait $daemon 2>/dev/null; rm -rf "$work"' EXIT
start_availd "$work" 10 --database "$work/availd.sqlite" --signing-key "$key" --admin-token bench

out="$results/ingest-$stamp.txt"
{
    echo "# availd ingest benchmark, $stamp"
    echo "# $(machine_line)"
    echo "# synchronous=FULL on the writer; load generator on the same machine"
} > "$out"
"$bin/availd-sim" load --url "$url" --signing-key "$key" --count "$count" --concurrency "$concurrency" \
    --daemon-pid "$daemon" --json "$results/ingest-$stamp.json" >> "$out"
# Stop the daemon here, in this shell (a `wait` inside a pipeline's subshell cannot reach it).
kill -TERM "$daemon"; wait "$daemon" || true
echo "# the log afterwards:" >> "$out"
"$bin/availd" verify --database "$work/availd.sqlite" >> "$out"
cat "$out"
