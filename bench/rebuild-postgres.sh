#!/usr/bin/env bash
# `availd rebuild` end to end on PostgreSQL and on SQLite, the same log, in the same minutes:
#
#     bench/rebuild-postgres.sh                       # the release build of this tree
#     bench/rebuild-postgres.sh /path/to/release/bin  # another build's executables
#
# Takes the log of BENCH_DELIVERIES (200,000) generated deliveries that bench/rebuild.sh keeps
# in .build-bench/ (generated here if missing), copies it into a PostgreSQL cluster of its own
# with `availd export | availd import` (timed: the import's rate is a figure too), then runs
# `availd rebuild` on each backend in turn, BENCH_ROUNDS (2) times, alternating: read the log,
# fold it, write the read models (SQLite: a new generation switched to in one durable step;
# PostgreSQL: one transaction replaces them). Prints events/s per backend and PostgreSQL ÷
# SQLite of the same round, checks that both print the same digest, and writes
# bench/results/rebuild-postgres-<stamp>.json.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

bin="$(release_bin "${1:-}")"
deliveries="${BENCH_DELIVERIES:-200000}"
rounds="${BENCH_ROUNDS:-2}"
[ -x /usr/bin/time ] || install_or_explain "bench/rebuild-postgres.sh needs GNU time; install it with:" time
work="$(mktemp -d)"
trap 'stop_postgres; rm -rf "$work"' EXIT

mkdir -p .build-bench
log=".build-bench/rebuild-$deliveries.sqlite"
if [ ! -f "$log" ]; then
    echo "== generating $deliveries deliveries into $log" >&2
    "$bin/availd-sim" generate --database "$log.partial" --deliveries "$deliveries" >&2
    for file in "$log.partial"*; do mv "$file" "${file/.partial/}"; done
fi
sqlite="$work/rebuild.sqlite"
# The log alone (a rebuild writes read models beside it), checkpointed into one file.
python3 -c "import sqlite3, sys; s = sqlite3.connect(sys.argv[1]); d = sqlite3.connect(sys.argv[2]); s.backup(d)" "$log" "$sqlite"

start_postgres bench/rebuild-postgres.sh
"${as[@]}" "$pg/createdb" -h 127.0.0.1 -p "$port" -U availd rebuild
url="postgres://availd@127.0.0.1:$port/rebuild"

new_results
load_before="$(loadavg)"
echo "== importing the log into PostgreSQL" >&2
started="$(date +%s.%N)"
"$bin/availd" export --database "$sqlite" | "$bin/availd" import --database "$url" >"$work/import.out"
import_seconds="$(python3 -c "import sys; print(round($(date +%s.%N) - $started, 3))")"
events="$(sed -n 's/^imported \([0-9]*\),.*/\1/p' "$work/import.out")"
echo "   $events events in ${import_seconds}s" >&2

figures="$work/figures.jsonl"
for round in $(seq 1 "$rounds"); do
    for backend in sqlite postgres; do
        database="$sqlite"; [ "$backend" = postgres ] && database="$url"
        out="$work/$backend-$round"
        /usr/bin/time -f 'wall %e cpu %U %S' -o "$out.time" "$bin/availd" rebuild --nice 0 --database "$database" >"$out.txt"
        echo "== round $round $backend: $(cat "$out.txt"), $(cat "$out.time")" >&2
        read -r _ wall _ user system <"$out.time"
        printf '{"round": %d, "backend": "%s", "wall_s": %s, "cpu_s": %s, "output": "%s"}\n' \
            "$round" "$backend" "$wall" "$(python3 -c "print($user + $system)")" "$(cat "$out.txt")" >>"$figures"
    done
done
machine="$(machine_since "$load_before")"

FIGURES="$figures" EVENTS="$events" IMPORT_SECONDS="$import_seconds" MACHINE="$machine" STAMP="$stamp" ROUNDS="$rounds" \
    python3 - >"$results/rebuild-postgres-$stamp.json" <<'PY'
import json, os, sys
env = os.environ
events = int(env["EVENTS"])
runs = [json.loads(line) for line in open(env["FIGURES"])]
outputs = {r["output"] for r in runs}
if len(outputs) != 1:
    sys.exit(f"the backends' rebuilds disagree: {sorted(outputs)}")
for r in runs:
    r["events_per_s"] = events / r["wall_s"]
rounds = []
for n in range(1, int(env["ROUNDS"]) + 1):
    by = {r["backend"]: r for r in runs if r["round"] == n}
    rounds.append({"round": n, "sqlite_per_s": by["sqlite"]["events_per_s"], "postgres_per_s": by["postgres"]["events_per_s"],
                   "ratio": by["postgres"]["events_per_s"] / by["sqlite"]["events_per_s"]})
def median(values):
    values = sorted(values)
    return values[len(values) // 2]
summary = {
    "kind": "rebuild-postgres", "stamp": env["STAMP"], "events": events, "digest": outputs.pop(),
    "import": {"seconds": float(env["IMPORT_SECONDS"]), "events_per_s": events / float(env["IMPORT_SECONDS"])},
    "sqlite_events_per_s": median([r["sqlite_per_s"] for r in rounds]),
    "postgres_events_per_s": median([r["postgres_per_s"] for r in rounds]),
    "postgres_over_sqlite": median([r["ratio"] for r in rounds]),
    "rounds": rounds, "runs": runs, "machine": json.loads(env["MACHINE"]),
}
print(json.dumps(summary))
print(f'rebuild of {events} events: SQLite {summary["sqlite_events_per_s"]:,.0f}/s, PostgreSQL {summary["postgres_events_per_s"]:,.0f}/s '
      f'(÷ SQLite {summary["postgres_over_sqlite"]:.2f}); import into PostgreSQL {summary["import"]["events_per_s"]:,.0f}/s', file=sys.stderr)
PY
echo "== wrote $results/rebuild-postgres-$stamp.json" >&2
