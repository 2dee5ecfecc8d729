#!/usr/bin/env bash
# bench/native-setup.sh BIN WORK: starts BIN/availd on WORK/native.sqlite (its pid in WORK/pid, its
# URL in WORK/url), gives expert nina a native schedule (every day 08:00-20:00, 30-minute slots)
# and books 500 appointments over the next 31 days, spread so the free slots are scattered; the
# query string of those 31 days goes to WORK/range. The daemon keeps running.
set -euo pipefail
bin=$1; w=$2
$bin/availd serve --port 0 --database $w/native.sqlite --signing-key k --admin-token bench > $w/out 2> $w/err &
echo $! > $w/pid
for i in $(seq 100); do url=$(sed -n 's/^availd listening on \(http:[^ ]*\).*/\1/p' $w/out); [ -n "$url" ] && break; sleep 0.1; done
echo $url > $w/url
auth=(-H "Authorization: Bearer bench" -H "Content-Type: application/json")
curl -sf -X PUT "$url/experts/nina" "${auth[@]}" -d '{"name":"Nina Native","email":"nina@experts.example","timezone":"UTC"}' > /dev/null
rules=$(printf '{"type":"wday","wday":"%s","intervals":[{"from":"08:00","to":"20:00"}]},' sunday monday tuesday wednesday thursday friday saturday)
curl -sf -X PUT "$url/experts/nina/integration" "${auth[@]}" -d "{\"type\":\"native\",\"schedule\":{\"timezone\":\"UTC\",\"duration_minutes\":30,\"rules\":[${rules%,}]}}" > /dev/null
start_day=$(date -u -d "+2 days" +%Y-%m-%d)
booked=0
for day in $(seq 0 30); do for slot in 0 2 4 6 8 10 12 14 16 18 20 22 1 3 5 7 9; do
  [ "$booked" -ge 500 ] && break 2
  minutes=$((8 * 60 + slot * 30))
  start="$(date -u -d "$start_day + $day days" +%Y-%m-%d)T$(printf '%02d:%02d' $((minutes / 60)) $((minutes % 60))):00Z"
  curl -sf -X POST "$url/experts/nina/appointments" "${auth[@]}" -d "{\"start_time\":\"$start\",\"invitee\":{\"name\":\"Guest $booked\",\"email\":\"guest$booked@example.com\"}}" > /dev/null && booked=$((booked + 1))
done; done
echo "booked $booked"
echo "start_time=${start_day}T00:00:00Z&end_time=$(date -u -d "$start_day + 31 days" +%Y-%m-%d)T00:00:00Z" > $w/range
