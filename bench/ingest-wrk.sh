#!/usr/bin/env bash
# `make bench`, part 3: ingest under wrk, availd against a baseline (what a typical team writes
# instead: FastAPI under uvicorn, two workers, one durable SQLite insert per delivery; see
# bench/baseline/app.py), alternating on the same machine.
#
#     bench/ingest-wrk.sh [AVAILD_BIN_DIR]        # or AVAILD_BIN=DIR bench/ingest-wrk.sh
#
# For every round (BENCH_ROUNDS, default 2) and every target in turn (availd, baseline, availd,
# baseline, ... so both see the same minutes of a noisy machine):
#   1. start it on a fresh database, on loopback, and wait until it listens;
#   2. warm up for BENCH_WARMUP seconds (default 3) with deliveries of their own;
#   3. generate the measured deliveries right then (bench/wrk/deliveries.py: distinct, signed now,
#      the bodies `availd-sim load` sends), 2.5 times what the best rate seen so far (warm-up or
#      an earlier round) would take in the run, at least 2,500 a second, so that wrk's threads
#      do not wrap around to duplicates (the JSON says when they did: "wraps");
#   4. wrk: BENCH_CONNECTIONS (64) connections on BENCH_THREADS (2) threads for BENCH_DURATION
#      seconds (default 20), bench/wrk/webhook.lua;
#   5. read the server's peak RSS (VmHWM; for uvicorn the sum over its workers) and CPU time
#      during the run (and wrk's, with /usr/bin/time),
#      stop it (SIGTERM), and count what is stored (availd: `availd verify`; the baseline: sqlite3):
#      every 202 of the warm-up and the run must be there ("lost" counts those that are not).
# Writes bench/results/ingest-wrk-<stamp>.json (every round, the machine, the ratios availd ÷
# baseline of acknowledged/s per round and overall) and prints a table.
#
# AVAILD_BIN (or the argument): the directory holding the availd executable, by default
# `swift build -c release --show-bin-path`, so two builds can be compared (AVAILD_LABEL names
# the build in the results, default "availd"; AVAILD_COMMIT, if set, is recorded with the
# executable's SHA-256). BENCH_TARGETS (default "availd baseline") may
# leave one out; BENCH_DELIVERIES fixes the count of measured deliveries (default: as in 3,
# at most BENCH_MAX_DELIVERIES, 400,000: wrk holds them all, about 3.7 KB each); BENCH_KEEP=1 keeps the
# databases and logs. Only 127.0.0.1 is ever sent to.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh

bin="$(release_bin "${1:-}")"
label="${AVAILD_LABEL:-availd}"
duration="${BENCH_DURATION:-20}"
rounds="${BENCH_ROUNDS:-2}"
warmup="${BENCH_WARMUP:-3}"
connections="${BENCH_CONNECTIONS:-64}"
threads="${BENCH_THREADS:-2}"
targets="${BENCH_TARGETS:-availd baseline}"
max_deliveries="${BENCH_MAX_DELIVERIES:-400000}"
key="bench-signing-key"
# Signatures are made before wrk loads them; keep them valid for the whole run.
tolerance=180
if [ "$duration" -gt 100 ]; then tolerance=$((duration + 120)); fi

need_commands bench/ingest-wrk.sh wrk python3 sqlite3 curl
case " $targets " in *" availd "*)
    [ -x "$bin/availd" ] || { echo "$bin/availd is missing: build it (swift build -c release) or set AVAILD_BIN" >&2; exit 1; } ;;
esac
case " $targets " in *" baseline "*) bench/venv.sh bench/baseline/requirements.txt ;; esac

new_results
out="$results/ingest-wrk-$stamp.json"
work="$(mktemp -d "${TMPDIR:-/tmp}/availd-ingest-wrk.XXXXXX")"
server=""

# The server's process and, for uvicorn, its workers (children running multiprocessing's spawn_main):
# stop_server (bench/lib.sh) kills them all.
server_pids() {
    echo "$server"
    for child in $(pgrep -P "$server" 2>/dev/null || true); do
        if tr '\0' ' ' < "/proc/$child/cmdline" 2>/dev/null | grep -q "spawn_main"; then echo "$child"; fi
    done
}

cleanup() {
    stop_server
    remove_work
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# kB of VmHWM (peak resident set) of one process, 0 when gone.
vmhwm() { awk '/^VmHWM:/ {print $2; found=1} END {if (!found) print 0}' "/proc/$1/status" 2>/dev/null || echo 0; }
# CPU seconds (user + system) a process has used so far.
cpu_seconds() {
    local ticks
    ticks="$(getconf CLK_TCK)"
    awk -v hz="$ticks" '{sub(/^.*\) /, ""); printf "%.2f\n", ($12 + $13) / hz}' "/proc/$1/stat" 2>/dev/null || echo 0
}
# Sum of cpu_seconds over the server's processes (uvicorn: supervisor and workers).
server_cpu() {
    for pid in $(server_pids); do cpu_seconds "$pid"; done | awk '{total += $1} END {printf "%.2f\n", total}'
}

# start_server TARGET DIR: starts it in the background on a fresh database in DIR; sets $server and $url.
start_server() {
    local target="$1" dir="$2"
    if [ "$target" = availd ]; then
        start_availd "$dir" 30 --database "$dir/availd.sqlite" --signing-key "$key" --admin-token bench \
            --signature-tolerance "$tolerance"
        server="$daemon"
    else
        local port
        port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
        BASELINE_SIGNING_KEY="$key" BASELINE_TOLERANCE="$tolerance" \
            bench/baseline/run.sh "$port" "$dir/baseline.sqlite" > "$dir/stdout" 2> "$dir/stderr" &
        server=$!
        url="http://127.0.0.1:$port"
        for _ in $(seq 300); do curl -sf "$url/healthz" > /dev/null 2>&1 && break; sleep 0.1; done
        # Both workers up (uvicorn starts them one by one).
        for _ in $(seq 100); do [ "$(server_pids | wc -l)" -ge 3 ] && break; sleep 0.1; done
    fi
    check_listening "$target" "$dir"
}

# run_wrk SECONDS FILE OUTPUT: wrk against the running server; the last line of OUTPUT is the JSON.
run_wrk() {
    local timer=()
    # wrk's own CPU time (user, system) into OUTPUT.time: the client shares the cores too.
    if [ -x /usr/bin/time ]; then timer=(/usr/bin/time -f "%U %S" -o "$3.time"); fi
    "${timer[@]}" wrk -t"$threads" -c"$connections" -d"$1s" --timeout 10s -s bench/wrk/webhook.lua \
        "$url/webhooks/calendly" -- "$2" "$threads" > "$3" 2> "$3.err"
    tail -n 1 "$3" | python3 -c 'import json, sys; json.load(sys.stdin)' \
        || { echo "wrk gave no result:" >&2; cat "$3" "$3.err" >&2; exit 1; }
}

echo "== ingest under wrk: $targets, $rounds round(s) of ${duration}s, $connections connections on $threads threads"
echo "   availd: $bin/availd ($label); results: $out"
declare -A best_rate=()
load_before="$(loadavg)"
started_at="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
: > "$work/rounds.jsonl"

for round in $(seq "$rounds"); do
    for target in $targets; do
        dir="$work/$round-$target"
        mkdir -p "$dir"
        seed="$stamp-$round-$target"
        round_load_before="$(loadavg)"
        echo "-- round $round, $target"
        start_server "$target" "$dir"

        python3 bench/wrk/deliveries.py --count 30000 --seed "$seed-warmup" --key "$key" --out "$dir/warmup.txt" 2> /dev/null
        run_wrk "$warmup" "$dir/warmup.txt" "$dir/warmup.out"
        rm -f "$dir/warmup.txt" "$dir/warmup.txt.ready"
        warm_rate="$(json_field "$dir/warmup.out" 'j["acknowledged_per_s"]')"
        if [ -n "${BENCH_DELIVERIES:-}" ]; then
            count="$BENCH_DELIVERIES"
        else
            # The warm-up's rate says little on a busy machine (and a fresh database may be faster
            # or slower): take the best rate this target has shown so far, keep a wide margin, and
            # never fewer than 2,500 a second of the run.
            best="${best_rate[$target]:-0}"
            count="$(python3 -c "r = max($warm_rate, $best); print(min($max_deliveries, max(2500 * $duration, int(r * $duration * 2.5)) + 5000))")"
        fi

        python3 bench/wrk/deliveries.py --count "$count" --seed "$seed" --key "$key" --out "$dir/deliveries.txt" 2> /dev/null
        cpu_before="$(server_cpu)"
        run_wrk "$duration" "$dir/deliveries.txt" "$dir/wrk.out"
        cpu_after="$(server_cpu)"
        rm -f "$dir/deliveries.txt" "$dir/deliveries.txt.ready"

        # Peak memory while it still runs; the workers' for uvicorn.
        rss_detail=""
        rss_total=0
        for pid in $(server_pids); do
            kb="$(vmhwm "$pid")"
            rss_detail="$rss_detail $pid:$kb"
            if [ "$target" = availd ] || [ "$pid" != "$server" ]; then rss_total=$((rss_total + kb)); fi
        done
        supervisor_kb=0
        [ "$target" = baseline ] && supervisor_kb="$(vmhwm "$server")"
        stop_server

        if [ "$target" = availd ]; then
            "$bin/availd" verify --database "$dir/availd.sqlite" > "$dir/verify.out" 2> "$dir/verify.err" || true
            stored="$(sed -n 's/^log [A-Za-z]*: \([0-9]*\) events.*/\1/p' "$dir/verify.out")"
            check="$(tr '\n' ';' < "$dir/verify.out")"
        else
            stored="$(sqlite3 "$dir/baseline.sqlite" 'SELECT count(*) FROM deliveries')"
            check="$(sqlite3 "$dir/baseline.sqlite" 'PRAGMA integrity_check')"
        fi
        [ -n "$stored" ] || { echo "could not count what $target stored:" >&2; cat "$dir"/verify.* >&2 2>/dev/null; exit 1; }

        TARGET="$target" LABEL="$label" ROUND="$round" COUNT="$count" STORED="$stored" CHECK="$check" \
        RSS_KB="$rss_total" RSS_DETAIL="$rss_detail" SUPERVISOR_KB="$supervisor_kb" \
        CPU="$(awk -v a="$cpu_after" -v b="$cpu_before" 'BEGIN {printf "%.2f", a - b}')" \
        WRK_CPU="$(awk '{printf "%.2f", $1 + $2}' "$dir/wrk.out.time" 2>/dev/null || true)" LOAD_BEFORE="$round_load_before" LOAD_AFTER="$(loadavg)" \
        python3 - "$dir/warmup.out" "$dir/wrk.out" >> "$work/rounds.jsonl" <<'PY'
import json, os, sys
last = lambda path: json.loads(open(path).read().strip().splitlines()[-1])
warm, run = last(sys.argv[1]), last(sys.argv[2])
env = os.environ
new_acks = warm["status_202"] + run["status_202"]
stored = int(env["STORED"])
acked = run["status_2xx"]
result = {
    "target": env["TARGET"],
    "build": env["LABEL"] if env["TARGET"] == "availd" else "baseline (FastAPI + uvicorn, 2 workers)",
    "round": int(env["ROUND"]),
    "duration_s": run["duration_s"],
    "acknowledged": acked,
    "acknowledged_per_s": run["acknowledged_per_s"],
    "requests_per_s": run["requests_per_s"],
    "status_202": run["status_202"],
    "status_200": run["status_200"],
    "non_2xx": run["non_2xx"],
    "statuses": run["statuses"],
    "socket_errors": run["errors"],
    "latency_ms": run["latency_ms"],
    "deliveries_generated": int(env["COUNT"]),
    "wraps": run["wraps"],
    "warmup": {k: warm[k] for k in ("duration_s", "status_2xx", "status_202", "non_2xx", "acknowledged_per_s")},
    "stored": stored,
    "acknowledged_new_including_warmup": new_acks,
    "lost": max(0, new_acks - stored),
    "stored_covers_2xx": stored >= warm["status_2xx"] + run["status_2xx"],
    "store_check": env["CHECK"].strip(),
    "peak_rss_bytes": int(env["RSS_KB"]) * 1024,
    "peak_rss_processes": {p.split(":")[0]: int(p.split(":")[1]) * 1024 for p in env["RSS_DETAIL"].split()},
    "supervisor_peak_rss_bytes": int(env["SUPERVISOR_KB"]) * 1024 if env["TARGET"] == "baseline" else None,
    "server_cpu_seconds": float(env["CPU"]),
    "server_cpu_ms_per_acknowledged": 1000 * float(env["CPU"]) / acked if acked else None,
    # wrk's CPU over its whole run, loading the deliveries included (about a second per 30,000).
    "wrk_cpu_seconds": float(env["WRK_CPU"]) if env.get("WRK_CPU") else None,
    "loadavg_before": env["LOAD_BEFORE"].split(),
    "loadavg_after": env["LOAD_AFTER"].split(),
}
print(json.dumps(result))
PY
        best_rate[$target]="$(json_field "$work/rounds.jsonl" "max(j['acknowledged_per_s'], ${best_rate[$target]:-0})")"
        json_field "$work/rounds.jsonl" '"   %.0f acknowledged/s, p50 %.2f ms, p99 %.2f ms, non-2xx %d, stored %d, lost %d, peak RSS %.0f MB" % (j["acknowledged_per_s"], j["latency_ms"]["p50"], j["latency_ms"]["p99"], j["non_2xx"], j["stored"], j["lost"], j["peak_rss_bytes"] / 1e6)'
    done
done

load_after="$(loadavg)"
STAMP="$stamp" STARTED="$started_at" \
MACHINE="$(machine_json "$load_before" "$load_after" "$(swift --version 2>/dev/null | head -1 || echo unknown)")" \
BIN="$bin" LABEL="$label" DURATION="$duration" CONNECTIONS="$connections" THREADS="$threads" WARMUP="$warmup" \
TOLERANCE="$tolerance" \
WRK_VERSION="$(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)" AVAILD_SHA256="$(sha256sum "$bin/availd" 2>/dev/null | cut -d' ' -f1)" \
BASELINE_PACKAGES="$(.build-baseline/venv/bin/pip freeze 2>/dev/null | grep -Ei '^(fastapi|uvicorn|uvloop|httptools|starlette)==' | tr '\n' ' ')" \
python3 - "$work/rounds.jsonl" "$out" <<'PY'
import json, os, statistics, sys
env = os.environ
rounds = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]

def by(target):
    return [r for r in rounds if r["target"] == target]

summary = {}
for target in ("availd", "baseline"):
    rs = by(target)
    if not rs:
        continue
    summary[target] = {
        "build": rs[0]["build"],
        "rounds": len(rs),
        "acknowledged_per_s_mean": statistics.mean(r["acknowledged_per_s"] for r in rs),
        "acknowledged_per_s_overall": sum(r["acknowledged"] for r in rs) / sum(r["duration_s"] for r in rs),
        "latency_ms_median_of_rounds": {p: statistics.median(r["latency_ms"][p] for r in rs) for p in ("p50", "p90", "p99", "p99.9")},
        "peak_rss_bytes_max": max(r["peak_rss_bytes"] for r in rs),
        "non_2xx": sum(r["non_2xx"] for r in rs),
        "lost": sum(r["lost"] for r in rs),
        "wraps": sum(r["wraps"] for r in rs),
        "server_cpu_ms_per_acknowledged_mean": statistics.mean(r["server_cpu_ms_per_acknowledged"] or 0 for r in rs),
    }
ratio = None
if "availd" in summary and "baseline" in summary:
    per_round = []
    for a in by("availd"):
        b = next((b for b in by("baseline") if b["round"] == a["round"]), None)
        if b and b["acknowledged_per_s"]:
            per_round.append({"round": a["round"], "ratio": a["acknowledged_per_s"] / b["acknowledged_per_s"]})
    ratio = {
        "per_round": per_round,
        "overall": summary["availd"]["acknowledged_per_s_overall"] / summary["baseline"]["acknowledged_per_s_overall"]
        if summary["baseline"]["acknowledged_per_s_overall"] else None,
    }

document = {
    "kind": "ingest-wrk",
    "stamp": env["STAMP"],
    "started_at": env["STARTED"],
    "settings": {
        "duration_s": int(env["DURATION"]), "connections": int(env["CONNECTIONS"]), "threads": int(env["THREADS"]),
        "warmup_s": int(env["WARMUP"]), "signature_tolerance_s": int(env["TOLERANCE"]),
        "availd_bin": env["BIN"], "availd_build": env["LABEL"], "availd_commit": env.get("AVAILD_COMMIT") or None,
        "availd_sha256": env["AVAILD_SHA256"] or None, "wrk": env["WRK_VERSION"],
        "baseline_packages": env["BASELINE_PACKAGES"].split(),
    },
    "machine": json.loads(env["MACHINE"]),
    "rounds": rounds,
    "summary": summary,
    "ratio_availd_over_baseline": ratio,
}
with open(sys.argv[2], "w") as f:
    json.dump(document, f, indent=2)
    f.write("\n")

print()
print(f"{'round':>5}  {'target':<8} {'ack/s':>9} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'p99.9 ms':>9} "
      f"{'RSS MB':>7} {'CPU ms/ack':>10} {'non-2xx':>7} {'stored':>8} {'lost':>5}")
for r in rounds:
    l = r["latency_ms"]
    print(f"{r['round']:>5}  {r['target']:<8} {r['acknowledged_per_s']:>9.0f} {l['p50']:>8.2f} {l['p90']:>8.2f} "
          f"{l['p99']:>8.2f} {l['p99.9']:>9.2f} {r['peak_rss_bytes'] / 1e6:>7.0f} "
          f"{(r['server_cpu_ms_per_acknowledged'] or 0):>10.3f} {r['non_2xx']:>7} {r['stored']:>8} {r['lost']:>5}")
if ratio:
    rounds_text = ", ".join(f"round {p['round']} {p['ratio']:.1f}x" for p in ratio["per_round"])
    print(f"availd ÷ baseline, acknowledged/s: {rounds_text}; overall {ratio['overall']:.1f}x")
problems = [f"round {r['round']} {r['target']}: " + ", ".join(
    w for w, bad in (("lost %d acknowledged deliveries" % r["lost"], r["lost"]),
                     ("%d non-2xx" % r["non_2xx"], r["non_2xx"]),
                     ("no 2xx", not r["acknowledged"]),
                     ("wrapped to duplicates %d times" % r["wraps"], r["wraps"])) if bad)
    for r in rounds if r["lost"] or r["non_2xx"] or not r["acknowledged"] or r["wraps"]]
for p in problems:
    print("WARNING " + p)
print(f"written {sys.argv[2]}")
sys.exit(1 if any(r["lost"] or not r["acknowledged"] for r in rounds) else 0)
PY
