#!/usr/bin/env bash
# `make bench`, part 2: the projector, on a release build.
#  1. rebuild throughput over a generated log of BENCH_REBUILD_DELIVERIES (default 1,000,000)
#     deliveries of about 2 KB, in memory and into the SQLite read models;
#  2. one page of GET /experts/ada/appointments for an expert with about 10,000 appointments;
#  3. projection lag (2xx to readable) under the ingest load of bench/ingest.sh;
#  4. native availability over 31 days for an expert with 500 booked appointments;
#  5. Calendly availability over 31 days served from availd's cache.
# Writes bench/results/projection-<time>.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh

deliveries="${BENCH_REBUILD_DELIVERIES:-1000000}"
bin="$(swift build -c release --show-bin-path)"
work="$(mktemp -d)"
new_results
out="$results/projection-$stamp.txt"
daemon=""
cleanup() { [ -n "$daemon" ] && kill "$daemon" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

serve() { # serve DATABASE: starts availd in the background, sets $daemon and $url
    start_availd "$work" 30 --database "$1" --signing-key bench-key --admin-token bench
}
stop() { kill -TERM "$daemon"; wait "$daemon" || true; daemon=""; }

{
    echo "# availd projection benchmark, $stamp"
    echo "# $(machine_line)"
    echo
    echo "## 1. rebuild of $deliveries generated deliveries"
} > "$out"
"$bin/availd-sim" generate --database "$work/big.sqlite" --deliveries "$deliveries" >> "$out"
echo "# log file: $(du -h "$work/big.sqlite" | cut -f1)" >> "$out"
"$bin/availd-sim" rebuild-bench --database "$work/big.sqlite" >> "$out"
rm -f "$work"/big.sqlite*

echo -e "\n## 2. one page of an expert's appointments" >> "$out"
"$bin/availd-sim" generate --database "$work/list.sqlite" --deliveries 55000 --seed 7 >> "$out"
"$bin/availd-sim" rebuild-bench --database "$work/list.sqlite" | grep -E "appointments per expert|rebuild total" >> "$out"
serve "$work/list.sqlite"
"$bin/availd-sim" probe --url "$url" --admin-token bench --count 300 --path "/experts/ada/appointments" > /dev/null
for path in "/experts/ada/appointments" "/experts/ada/appointments?from=2026-12-20T00:00:00Z&limit=100" \
            "/experts/ada/appointments?status=canceled"; do
    "$bin/availd-sim" probe --url "$url" --admin-token bench --count 5000 --path "$path" >> "$out"
    "$bin/availd-sim" probe --url "$url" --admin-token bench --count 5000 --concurrency 8 --path "$path" \
        | grep -E "throughput|latency" | sed 's/^/  (concurrency 8)/' >> "$out"
done
stop

echo -e "\n## 3. projection lag under ingest load" >> "$out"
serve "$work/lag.sqlite"
"$bin/availd-sim" load --url "$url" --signing-key bench-key --admin-token bench --count 30000 --concurrency 64 \
    --lag-probe-every 25 --daemon-pid "$daemon" >> "$out"
stop
"$bin/availd" verify --database "$work/lag.sqlite" >> "$out"

echo -e "\n## 4. native availability: 31 days, 500 booked appointments" >> "$out"
serve "$work/native.sqlite"
auth=(-H "Authorization: Bearer bench" -H "Content-Type: application/json")
curl -sf -X PUT "$url/experts/nina" "${auth[@]}" -d '{"name":"Nina Native","email":"nina@experts.example","timezone":"UTC"}' > /dev/null
# Every day 08:00-20:00, 30-minute slots: 24 a day, 744 in 31 days; 500 of them get booked
# (17 a day, spread so the free ones are scattered).
rules=$(printf '{"type":"wday","wday":"%s","intervals":[{"from":"08:00","to":"20:00"}]},' sunday monday tuesday wednesday thursday friday saturday)
curl -sf -X PUT "$url/experts/nina/integration" "${auth[@]}" \
    -d "{\"type\":\"native\",\"schedule\":{\"timezone\":\"UTC\",\"duration_minutes\":30,\"rules\":[${rules%,}]}}" > /dev/null
start_day=$(date -u -d "+2 days" +%Y-%m-%d)
booked=0
for day in $(seq 0 30); do
    for slot in 0 2 4 6 8 10 12 14 16 18 20 22 1 3 5 7 9; do
        [ "$booked" -ge 500 ] && break 2
        minutes=$((8 * 60 + slot * 30))
        start="$(date -u -d "$start_day + $day days" +%Y-%m-%d)T$(printf '%02d:%02d' $((minutes / 60)) $((minutes % 60))):00Z"
        curl -sf -X POST "$url/experts/nina/appointments" "${auth[@]}" \
            -d "{\"start_time\":\"$start\",\"invitee\":{\"name\":\"Guest $booked\",\"email\":\"guest$booked@example.com\"}}" > /dev/null \
            && booked=$((booked + 1))
    done
done
echo "booked $booked native appointments" >> "$out"
range="start_time=${start_day}T00:00:00Z&end_time=$(date -u -d "$start_day + 31 days" +%Y-%m-%d)T00:00:00Z"
"$bin/availd-sim" probe --url "$url" --count 300 --path "/experts/nina/availability?$range" > /dev/null
"$bin/availd-sim" probe --url "$url" --count 3000 --path "/experts/nina/availability?$range" >> "$out"
"$bin/availd-sim" probe --url "$url" --count 5000 --concurrency 8 --path "/experts/nina/availability?$range" \
    | grep -E "throughput|latency" | sed 's/^/  (concurrency 8)/' >> "$out"
stop

echo -e "\n## 5. Calendly availability served from availd's cache (Calendly stand-in on loopback)" >> "$out"
"$bin/availd-sim" calendly --port 0 > "$work/calendly.out" 2>/dev/null &
stand_in=$!
calendly="$(wait_for_url "$work/calendly.out" "calendly stand-in listening on" 10 "$stand_in")"
start_availd "$work" 30 --database "$work/calendly.sqlite" --signing-key bench-key --admin-token bench \
    --calendly-api "$calendly" --calendly-token calendly-token-admin --calendly-window-days 7
curl -sf -X PUT "$url/experts/grace" "${auth[@]}" -d '{"name":"Grace Hopper","email":"grace.hopper@experts.example","timezone":"America/New_York"}' > /dev/null
curl -sf -X PUT "$url/experts/grace/integration" "${auth[@]}" -d '{"type":"calendly","event_link":"https://calendly.com/grace-hopper/60min"}' > /dev/null
range="start_time=${start_day}T00:00:00Z&end_time=$(date -u -d "$start_day + 31 days" +%Y-%m-%d)T00:00:00Z"
"$bin/availd-sim" probe --url "$url" --count 300 --path "/experts/grace/availability?$range" > /dev/null
"$bin/availd-sim" probe --url "$url" --count 3000 --path "/experts/grace/availability?$range" >> "$out"
echo "# calls that reached the stand-in: $(curl -s "$calendly/_sim/requests?path=/event_type_available_times") (5 windows of at most 7 days, once per 30 s cache lifetime)" >> "$out"
stop
kill "$stand_in"
cat "$out"
