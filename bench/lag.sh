#!/usr/bin/env bash
# Projection lag (a delivery's 2xx until `GET /appointments/{id}` finds it) against the ingest
# rate, builds side by side in the same minutes:
#
#     bench/lag.sh                                   # the release build of this tree
#     bench/lag.sh base=/work/a/bin new=.build/release   # LABEL=DIR holding availd and availd-sim
#
# For every rate in BENCH_RATES (default "500 1000 2000 4000" deliveries/s, open loop) and every
# build in turn, a fresh daemon (durable log, projector live) takes BENCH_SECONDS (15) seconds of
# `availd-sim load --rate R` with a lag probe on every 25th delivery. Writes
# bench/results/lag-<stamp>-<label>.json (kind "lag": one point per rate offered, with the rate
# acknowledged)
# for bench/plot.py.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

rates="${BENCH_RATES:-500 1000 2000 4000}"
seconds="${BENCH_SECONDS:-15}"
labelled_builds "$@"
key="bench-signing-key"

new_results
load_before="$(loadavg)"
work="$(mktemp -d)"
daemon=""
trap 'kill $daemon 2>/dev/null; wait $daemon 2>/dev/null; rm -rf "$work"' EXIT
for rate in $rates; do
    for build in "${builds[@]}"; do
        label="$(build_label "$build")" bin="$(build_dir "$build")"
        run="$work/$label-$rate"
        mkdir -p "$run"
        start_availd "$run" 10 --database "$run/availd.sqlite" --signing-key "$key" --admin-token bench
        check_listening "availd ($label)" "$run"
        "$bin/availd-sim" load --url "$url" --signing-key "$key" --rate "$rate" --count $((rate * seconds)) \
            --concurrency 256 --warmup 200 --lag-probe-every 25 --admin-token bench --daemon-pid "$daemon" \
            --json "$run/load.json" >/dev/null
        kill -TERM "$daemon"; wait "$daemon" || true
        daemon=""
        echo "== $label at $rate/s: $(python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); l = j["projection_lag_ms"]
print("%.0f/s acknowledged, lag p50 %s ms, p99 %s ms" % (j["throughput_per_second"], l["p50"], l["p99"]))' "$run/load.json")" >&2
    done
done
machine="$(machine_since "$load_before")"

for build in "${builds[@]}"; do
    label="$(build_label "$build")"
    WORK="$work" LABEL="$label" RATES="$rates" MACHINE="$machine" STAMP="$stamp" SECONDS_EACH="$seconds" \
        python3 - >"$results/lag-$stamp-$label.json" <<'PY'
import json, os
env = os.environ
points = []
for rate in env["RATES"].split():
    load = json.load(open(f'{env["WORK"]}/{env["LABEL"]}-{rate}/load.json'))
    lag = load["projection_lag_ms"]
    points.append({"rate": int(rate), "acknowledged_per_s": round(load["throughput_per_second"]), "lag_p50_ms": lag["p50"],
                   "lag_p99_ms": lag["p99"], "lag_max_ms": lag["max"], "probes": lag["probes"],
                   "ingest_p99_ms": load["latency_ms"]["p99"], "failed": load["failed"]})
print(json.dumps({"kind": "lag", "build": env["LABEL"], "stamp": env["STAMP"], "points": points,
                  "settings": {"seconds_per_rate": int(env["SECONDS_EACH"]), "probe_every": 25},
                  "machine": json.loads(env["MACHINE"])}))
PY
    echo "== wrote $results/lag-$stamp-$label.json" >&2
done
