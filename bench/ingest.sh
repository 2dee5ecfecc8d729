#!/usr/bin/env bash
# `make bench`: ingest throughput and latency of a release build, durable (synchronous=FULL),
# with the load generator on the same machine. Writes bench/results/ingest-<time>.{txt,json}.
set -euo pipefail
cd "$(dirname "$0")/.."

count="${BENCH_COUNT:-60000}"
concurrency="${BENCH_CONCURRENCY:-64}"
bin="$(swift build -c release --show-bin-path)"
work="$(mktemp -d)"
results="bench/results"
mkdir -p "$results"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
key="bench-signing-key"

"$bin/availd" serve --database "$work/availd.sqlite" --port 0 --signing-key "$key" --admin-token bench \
    > "$work/stdout" 2> "$work/stderr" &
daemon=$!
trap 'kill $daemon 2>/dev/null; wait $daemon 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do grep -q "listening on" "$work/stdout" && break; sleep 0.1; done
url="$(sed -n 's/^availd listening on //p' "$work/stdout")"

out="$results/ingest-$stamp.txt"
{
    echo "# availd ingest benchmark, $stamp"
    echo "# $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr), $(swift --version 2>&1 | head -1)"
    echo "# synchronous=FULL on the writer; load generator on the same machine"
} > "$out"
"$bin/availd-sim" load --url "$url" --signing-key "$key" --count "$count" --concurrency "$concurrency" \
    --daemon-pid "$daemon" --json "$results/ingest-$stamp.json" >> "$out"
# Stop the daemon here, in this shell (a `wait` inside a pipeline's subshell cannot reach it).
kill -TERM "$daemon"; wait "$daemon" || true
echo "# the log afterwards:" >> "$out"
"$bin/availd" verify --database "$work/availd.sqlite" >> "$out"
cat "$out"
