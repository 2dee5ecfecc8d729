#!/usr/bin/env bash
# The log's durable appends per second, SQLite beside PostgreSQL in the same minutes:
#
#     bench/append.sh                       # the release build of this tree
#     bench/append.sh /path/to/release/bin  # another build's executables
#
# `availd-sim append-bench` appends distinct generated deliveries through the group-committing
# LogWriter (what the webhook path does, without HTTP) from BENCH_CONCURRENCY callers (1 16 64),
# for BENCH_SECONDS (10) each, BENCH_ROUNDS (2) times, alternating SQLite (a fresh file,
# synchronous=FULL) and PostgreSQL (a cluster initdb'd into a temporary folder, on loopback,
# fsync and synchronous_commit on, its defaults otherwise). Prints each figure and PostgreSQL ÷
# SQLite per concurrency; writes bench/results/append-<stamp>.json.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

bin="$(release_bin "${1:-}")"
concurrencies=(${BENCH_CONCURRENCY:-1 16 64})
seconds="${BENCH_SECONDS:-10}"
rounds="${BENCH_ROUNDS:-2}"
work="$(mktemp -d)"
cleanup() {
    stop_postgres
    rm -rf "$work"
}
trap cleanup EXIT
start_postgres bench/append.sh

new_results
load_before="$(loadavg)"
figures="$work/figures.jsonl"
for round in $(seq 1 "$rounds"); do
    for concurrency in "${concurrencies[@]}"; do
        for backend in sqlite postgres; do
            if [ "$backend" = sqlite ]; then
                database="$work/append-$round-$concurrency.sqlite"
            else
                "${as[@]}" "$pg/createdb" -h 127.0.0.1 -p "$port" -U availd "append_${round}_$concurrency"
                database="postgres://availd@127.0.0.1:$port/append_${round}_$concurrency"
            fi
            line="$("$bin/availd-sim" append-bench --database "$database" --concurrency "$concurrency" --seconds "$seconds" --json 2>/dev/null)"
            echo "round $round $backend concurrency $concurrency: $line" >&2
            echo "{\"round\":$round,\"backend\":\"$backend\",\"figures\":$line}" >>"$figures"
        done
    done
done

FIGURES="$figures" MACHINE="$(machine_since "$load_before")" OUT="$results/append-$stamp.json" python3 - <<'PY'
import json, os, statistics
rows = [json.loads(l) for l in open(os.environ["FIGURES"])]
summary = {}
for row in rows:
    key = (row["backend"], row["figures"]["concurrency"])
    summary.setdefault(key, []).append(row["figures"])
print(f"{'concurrency':>11} {'SQLite/s':>9} {'p99 ms':>7} {'PostgreSQL/s':>12} {'p99 ms':>7} {'PG ÷ SQLite':>11}")
table = []
for concurrency in sorted({c for _, c in summary}):
    med = {b: statistics.median(f["appends_per_second"] for f in summary[(b, concurrency)]) for b in ("sqlite", "postgres")}
    p99 = {b: statistics.median(f["p99_ms"] for f in summary[(b, concurrency)]) for b in ("sqlite", "postgres")}
    ratio = med["postgres"] / med["sqlite"] if med["sqlite"] else 0
    table.append({"concurrency": concurrency, "median": med, "p99_ms": p99, "postgres_over_sqlite": round(ratio, 2)})
    print(f"{concurrency:>11} {med['sqlite']:>9.0f} {p99['sqlite']:>7.2f} {med['postgres']:>12.0f} {p99['postgres']:>7.2f} {ratio:>11.2f}")
json.dump({"kind": "append", "machine": json.loads(os.environ["MACHINE"]), "rounds": rows, "summary": table},
          open(os.environ["OUT"], "w"), indent=1)
print("wrote", os.environ["OUT"])
PY
