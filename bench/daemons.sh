#!/usr/bin/env bash
# Ingest with one, two and three daemons on one PostgreSQL, and one daemon on SQLite, in the
# same minutes:
#
#     bench/daemons.sh                       # the release build of this tree
#     bench/daemons.sh /path/to/release/bin  # another build's executables
#
# For each setup, N daemons (`availd serve`) share a fresh database, and N `availd-sim load`
# processes run at once, one per daemon, sending BENCH_COUNT (30000) distinct signed deliveries
# between them with BENCH_CONCURRENCY (64) requests in flight in all, after a warm-up; every
# 50th delivery probes the projection lag (2xx to readable with min_position on the daemon that
# took it: the projecting one, or a follower). BENCH_ROUNDS (2) rounds, setups alternating.
# Prints acknowledged/s (summed), p99 latency (the worst daemon's) and lag per setup, each ÷ the
# SQLite daemon of the same round; writes bench/results/daemons-<stamp>.json.
#
# Every process shares this machine's cores (daemons, PostgreSQL and the load generators alike):
# more daemons here measure contention, not what more machines would give.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

bin="$(release_bin "${1:-}")"
count="${BENCH_COUNT:-30000}"
concurrency="${BENCH_CONCURRENCY:-64}"
rounds="${BENCH_ROUNDS:-2}"
work="$(mktemp -d)"
daemons=()
cleanup() {
    for pid in "${daemons[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    stop_postgres
    rm -rf "$work"
}
trap cleanup EXIT
PG_OPTIONS="-c max_connections=200" start_postgres bench/daemons.sh

key=bench-signing-key
token=bench-admin-token
secret=bench-secret-key-of-thirty-two-characters

new_results
load_before="$(loadavg)"
figures="$work/figures.jsonl"
for round in $(seq 1 "$rounds"); do
    for setup in sqlite postgres-1 postgres-2 postgres-3; do
        if [ "$setup" = sqlite ]; then
            n=1; database="$work/daemons-$round.sqlite"
        else
            n="${setup#postgres-}"
            "${as[@]}" "$pg/createdb" -h 127.0.0.1 -p "$port" -U availd "daemons_${round}_$n"
            database="postgres://availd@127.0.0.1:$port/daemons_${round}_$n"
        fi
        daemons=(); urls=()
        for i in $(seq 1 "$n"); do
            mkdir -p "$work/$setup-$round-$i"
            start_availd "$work/$setup-$round-$i" 60 --database "$database" --signing-key "$key" --admin-token "$token" \
                --secret-key "$secret" --reconcile-interval 0
            check_listening "availd ($setup)" "$work/$setup-$round-$i"
            daemons+=("$daemon"); urls+=("$url")
        done
        loads=()
        for i in $(seq 1 "$n"); do
            "$bin/availd-sim" load --url "${urls[$((i - 1))]}" --signing-key "$key" --count $((count / n)) \
                --concurrency $((concurrency / n)) --warmup $((2000 / n)) --seed "$setup-$round-$i" \
                --lag-probe-every 50 --admin-token "$token" --json "$work/$setup-$round-$i.json" >/dev/null 2>&1 &
            loads+=($!)
        done
        for pid in "${loads[@]}"; do wait "$pid"; done
        for pid in "${daemons[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
        for pid in "${daemons[@]}"; do wait "$pid" 2>/dev/null || true; done
        daemons=()
        python3 - "$round" "$setup" "$work/$setup-$round-"*.json >>"$figures" <<'PY'
import json, sys
round_, setup, files = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
runs = [json.load(open(f)) for f in files]
lags = [r["projection_lag_ms"] for r in runs if r["projection_lag_ms"]]
print(json.dumps({
    "round": round_, "setup": setup, "daemons": len(runs),
    "acknowledged_per_second": sum(r["throughput_per_second"] for r in runs),
    "failed": sum(r["failed"] for r in runs),
    "p99_ms": max(r["latency_ms"]["p99"] for r in runs),
    "lag_p99_ms": max(l["p99"] for l in lags) if lags else None,
    "runs": runs}))
PY
        tail -n 1 "$figures" | python3 -c '
import json, sys
r = json.load(sys.stdin)
print("round %d %s: %.0f/s p99 %.1f ms lag p99 %s ms failed %d" % (r["round"], r["setup"], r["acknowledged_per_second"], r["p99_ms"], r["lag_p99_ms"], r["failed"]))' >&2
    done
done

FIGURES="$figures" MACHINE="$(machine_since "$load_before")" OUT="$results/daemons-$stamp.json" python3 - <<'PY'
import json, os, statistics
rows = [json.loads(l) for l in open(os.environ["FIGURES"])]
setups = ["sqlite", "postgres-1", "postgres-2", "postgres-3"]
def med(setup, field):
    values = [r[field] for r in rows if r["setup"] == setup and r[field] is not None]
    return statistics.median(values) if values else None
base = med("sqlite", "acknowledged_per_second")
print(f"{'setup':>11} {'acked/s':>8} {'÷ SQLite':>8} {'p99 ms':>7} {'lag p99 ms':>10} {'failed':>6}")
table = []
for setup in setups:
    rate = med(setup, "acknowledged_per_second")
    row = {"setup": setup, "acknowledged_per_second": rate, "over_sqlite": round(rate / base, 2),
           "p99_ms": med(setup, "p99_ms"), "lag_p99_ms": med(setup, "lag_p99_ms"),
           "failed": sum(r["failed"] for r in rows if r["setup"] == setup)}
    table.append(row)
    lag = f"{row['lag_p99_ms']:.1f}" if row["lag_p99_ms"] is not None else "-"
    print(f"{setup:>11} {rate:>8.0f} {row['over_sqlite']:>8.2f} {row['p99_ms']:>7.1f} {lag:>10} {row['failed']:>6}")
json.dump({"kind": "daemons", "machine": json.loads(os.environ["MACHINE"]), "rounds": rows, "summary": table},
          open(os.environ["OUT"], "w"), indent=1)
print("wrote", os.environ["OUT"])
PY
