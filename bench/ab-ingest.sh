#!/usr/bin/env bash
# bench/ab-ingest.sh DIR NAME: one ingest run of DIR/availd (40,000 distinct signed deliveries,
# 64 in flight, durable, the projector live) driven by availd-sim from $AB_LOADGEN (default DIR),
# so that two builds compared in one session share one load generator. Prints NAME, the
# acknowledged deliveries per second and the latency line. Alternate the builds, A B A B …
set -euo pipefail
dir="$1" name="$2"
loadgen="${AB_LOADGEN:-$dir}"
work="$(mktemp -d)"
"$dir/availd" serve --port 0 --database "$work/availd.sqlite" --signing-key ab-key --admin-token ab-admin \
    > "$work/stdout" 2> "$work/stderr" &
daemon=$!
trap 'kill "$daemon" 2>/dev/null; wait "$daemon" 2>/dev/null; rm -rf "$work"' EXIT
url=""
for _ in $(seq 100); do
    url="$(sed -n 's/^availd listening on \(http:[^ ]*\).*/\1/p' "$work/stdout")"
    [ -n "$url" ] && break
    sleep 0.1
done
[ -n "$url" ] || { echo "availd did not start:" >&2; cat "$work/stderr" >&2; exit 1; }
"$loadgen/availd-sim" load --url "$url" --signing-key ab-key --count 40000 --concurrency 64 --daemon-pid "$daemon" \
    --json "$work/result.json" > "$work/load.txt"
python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); print(sys.argv[2], round(r["throughput_per_second"]), "acknowledged/s, failed", r["failed"])' \
    "$work/result.json" "$name"
grep -E "latency ms" "$work/load.txt"
