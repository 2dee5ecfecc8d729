#!/usr/bin/env bash
# `make bench`, part 4: does a rebuild or a verify beside a running daemon delay its deliveries?
# The aim: "a rebuild or `verify` beside a running daemon delays no delivery by more than 50 ms".
#
#     bench/beside.sh [AVAILD_BIN_DIR]        # or AVAILD_BIN=DIR bench/beside.sh
#
#   1. `availd-sim generate` writes a log of BENCH_BESIDE_DELIVERIES (default 200,000) deliveries
#      (after the three fixture experts' set-up events), `availd rebuild` folds it once offline
#      (timed: so the read models are current), and `availd serve` starts on it, on loopback;
#   2. a short warm-up (BENCH_BESIDE_WARMUP seconds, default 3) with deliveries of its own, whose
#      rate sizes the sets of the phases;
#   3. three phases against the same daemon, each BENCH_BESIDE_SECONDS (default 30) long, each with
#      fresh deliveries (bench/wrk/deliveries.py, a seed per phase, so every one is a distinct 202):
#        quiet    wrk alone;
#        rebuild  wrk, and BENCH_BESIDE_DELAY (3) seconds after it starts, `availd rebuild` beside it;
#        verify   the same with `availd verify`.
#      A phase whose command is still running at the end is lengthened: wrk is stopped (SIGINT: it
#      still reports) only once the command has finished, the daemon has moved to the new
#      generation (rebuild), and BENCH_BESIDE_TAIL (5) more seconds have passed, so every delivery
#      in the command's window is measured (at most BENCH_BESIDE_MAX_SECONDS, 900, a phase).
#      The load is moderate, not saturating: wrk is closed-loop, so BENCH_BESIDE_CONNECTIONS (8)
#      connections on BENCH_BESIDE_THREADS (2) threads, and latency shows interference, not queueing;
#   4. the daemon is stopped (SIGTERM), `availd verify` counts what is stored: the events beyond the
#      generated log must be at least every 202 of the warm-up and the phases ("lost" must be 0,
#      else this exits 1; it also exits 1 when a command beside the daemon or the last verify fails).
# Writes bench/results/beside-<stamp>.json ("kind": "beside": per phase wrk's figures, the command's
# wall time, the load average before and after; the machine; rebuild's and verify's p99, p99.9 and
# max against the quiet phase, as ratios and as excess in ms) and prints a table.
#
# AVAILD_BIN (or the argument): the directory holding availd and availd-sim, by default
# `swift build -c release --show-bin-path` (AVAILD_LABEL names the build, AVAILD_COMMIT, if set, is
# recorded with the executable's SHA-256). BENCH_KEEP=1 keeps the database and logs. Only
# 127.0.0.1 is ever sent to.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh

bin="$(release_bin "${1:-}")"
label="${AVAILD_LABEL:-availd}"
deliveries="${BENCH_BESIDE_DELIVERIES:-200000}"
seconds="${BENCH_BESIDE_SECONDS:-30}"
connections="${BENCH_BESIDE_CONNECTIONS:-8}"
threads="${BENCH_BESIDE_THREADS:-2}"
warmup="${BENCH_BESIDE_WARMUP:-3}"
delay="${BENCH_BESIDE_DELAY:-3}"
tail_seconds="${BENCH_BESIDE_TAIL:-5}"
max_seconds="${BENCH_BESIDE_MAX_SECONDS:-900}"
max_deliveries="${BENCH_BESIDE_MAX_DELIVERIES:-400000}"
threshold_ms=50
key="bench-signing-key"
# Each phase's deliveries are signed before wrk loads them; keep them valid however long it lasts.
tolerance=$((max_seconds + 300))

need_commands bench/beside.sh wrk python3 curl
for exe in availd availd-sim; do
    [ -x "$bin/$exe" ] || { echo "$bin/$exe is missing: build it (swift build -c release) or set AVAILD_BIN" >&2; exit 1; }
done
if [ "$seconds" -le "$delay" ]; then echo "BENCH_BESIDE_SECONDS ($seconds) must be more than BENCH_BESIDE_DELAY ($delay)" >&2; exit 1; fi

new_results
out="$results/beside-$stamp.json"
work="$(mktemp -d "${TMPDIR:-/tmp}/availd-beside.XXXXXX")"
db="$work/availd.sqlite"
server=""
wrk_pid=""
beside_pid=""

cleanup() {
    if [ -n "$wrk_pid" ]; then kill -TERM "$wrk_pid" 2>/dev/null || true; wait "$wrk_pid" 2>/dev/null || true; fi
    if [ -n "$beside_pid" ]; then
        # The availd rebuild/verify the subshell started (its pid is in the phase's folder).
        for pidfile in "$work"/*/beside.pid; do
            [ -f "$pidfile" ] && kill -TERM "$(cat "$pidfile")" 2>/dev/null || true
        done
        wait "$beside_pid" 2>/dev/null || true
    fi
    stop_server
    remove_work
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
# since T: seconds (with decimals) from T until now.
since() { awk -v a="$(now)" -v b="$1" 'BEGIN {printf "%.3f\n", a - b}'; }
# ge A B: A >= B (decimals).
ge() { awk -v a="$1" -v b="$2" 'BEGIN {exit !(a >= b)}'; }
# metric NAME: the daemon's value of an unlabelled metric, or "null".
metric() {
    local text
    text="$(curl -sf --max-time 2 "$url/metrics" 2>/dev/null)" || text=""
    awk -v name="$1" '$1 == name {print $2; found = 1; exit} END {if (!found) print "null"}' <<< "$text"
}

echo "== beside the daemon: rebuild and verify of a $deliveries-delivery log under wrk ($connections connections, $threads threads)"
echo "   availd: $bin/availd ($label); results: $out"
started_at="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
load_before="$(loadavg)"

echo "-- availd-sim generate --deliveries $deliveries"
t="$(now)"
"$bin/availd-sim" generate --database "$db" --deliveries "$deliveries" > "$work/generate.out"
generate_seconds="$(since "$t")"
cat "$work/generate.out"
base_events="$(sed -n 's/.*log position \([0-9]*\).*/\1/p' "$work/generate.out")"
[ -n "$base_events" ] || { echo "could not read the log position from availd-sim generate" >&2; exit 1; }

echo "-- availd rebuild (offline)"
t="$(now)"
"$bin/availd" rebuild --database "$db" > "$work/offline-rebuild.out" 2> "$work/offline-rebuild.err"
offline_rebuild_seconds="$(since "$t")"
echo "   $(cat "$work/offline-rebuild.out") in ${offline_rebuild_seconds}s"

start_availd "$work" 60 --database "$db" --signing-key "$key" --admin-token bench --signature-tolerance "$tolerance"
server="$daemon"
check_listening availd "$work"
echo "   availd serve: $url (pid $server)"

# run_wrk_phase NAME COUNT [COMMAND]: one phase. Fresh deliveries, wrk against the daemon until the
# phase is over (see the header), COMMAND (rebuild | verify) beside it after $delay seconds.
# Leaves $work/NAME/{wrk.out,phase.json}.
run_wrk_phase() {
    local name="$1" count="$2" command="${3:-}" dir="$work/$1"
    mkdir -p "$dir"
    python3 bench/wrk/deliveries.py --count "$count" --seed "$stamp-$name" --key "$key" --out "$dir/deliveries.txt" 2> /dev/null
    local phase_load_before generation_before
    phase_load_before="$(loadavg)"
    generation_before="$(metric availd_read_models_generation)"
    # wrk's own -d only as a backstop: the phase ends with SIGINT, after which wrk still reports.
    wrk -t"$threads" -c"$connections" -d"$((max_seconds + 60))s" --timeout 10s -s bench/wrk/webhook.lua \
        "$url/webhooks/calendly" -- "$dir/deliveries.txt" "$threads" > "$dir/wrk.out" 2> "$dir/wrk.err" &
    wrk_pid=$!
    # The last thread's init() writes the marker; the threads start sending right after it.
    for _ in $(seq 6000); do
        [ -e "$dir/deliveries.txt.ready" ] && break
        kill -0 "$wrk_pid" 2>/dev/null || break
        sleep 0.02
    done
    [ -e "$dir/deliveries.txt.ready" ] || { echo "wrk did not start:" >&2; cat "$dir/wrk.out" "$dir/wrk.err" >&2; exit 1; }
    local t0 started="" ended="" status="" switched="" until_s="$seconds" capped=false
    t0="$(now)"
    if [ -n "$command" ]; then
        sleep "$delay"
        (
            set +e
            begin="$(now)"
            "$bin/availd" "$command" --database "$db" > "$dir/beside.out" 2> "$dir/beside.err" &
            echo $! > "$dir/beside.pid"
            wait $!
            rc=$?
            echo "$begin $(now) $rc" > "$dir/beside.time.tmp"
            mv "$dir/beside.time.tmp" "$dir/beside.time"
        ) &
        beside_pid=$!
    fi
    while :; do
        local elapsed
        elapsed="$(since "$t0")"
        if ge "$elapsed" "$max_seconds"; then capped=true; break; fi
        kill -0 "$wrk_pid" 2>/dev/null || { echo "wrk ended early:" >&2; cat "$dir/wrk.out" "$dir/wrk.err" >&2; exit 1; }
        if [ -n "$command" ] && [ -z "$ended" ] && [ -f "$dir/beside.time" ]; then
            read -r b e status < "$dir/beside.time"
            started="$(awk -v a="$b" -v z="$t0" 'BEGIN {printf "%.3f", a - z}')"
            ended="$(awk -v a="$e" -v z="$t0" 'BEGIN {printf "%.3f", a - z}')"
            [ "$command" = rebuild ] || switched="$ended"
            until_s="$(awk -v a="$ended" -v b="$tail_seconds" -v c="$seconds" 'BEGIN {x = a + b; printf "%.3f", (x > c ? x : c)}')"
        fi
        if [ "$command" = rebuild ] && [ -n "$ended" ] && [ -z "$switched" ]; then
            # Measure until the daemon has moved to the new generation, and the tail after that.
            local generation
            generation="$(metric availd_read_models_generation)"
            if [ "$generation" != "$generation_before" ] || ge "$(since "$t0")" "$(awk -v a="$ended" 'BEGIN {print a + 30}')"; then
                switched="$(since "$t0")"
                [ "$generation" != "$generation_before" ] || switched="null"
                until_s="$(awk -v a="${switched/null/$ended}" -v b="$tail_seconds" -v c="$seconds" 'BEGIN {x = a + b; printf "%.3f", (x > c ? x : c)}')"
            fi
        fi
        if ge "$elapsed" "$until_s" && { [ -z "$command" ] || { [ -n "$ended" ] && [ -n "$switched" ]; }; }; then break; fi
        sleep 0.1
    done
    local window
    window="$(since "$t0")"
    kill -INT "$wrk_pid"
    wait "$wrk_pid" || true
    wrk_pid=""
    tail -n 1 "$dir/wrk.out" | python3 -c 'import json, sys; json.load(sys.stdin)' \
        || { echo "wrk gave no result:" >&2; cat "$dir/wrk.out" "$dir/wrk.err" >&2; exit 1; }
    if [ -n "$command" ]; then
        # Capped: the command goes on; wait for it (its wall time is still recorded).
        wait "$beside_pid" || true
        beside_pid=""
        if [ -z "$ended" ]; then
            read -r b e status < "$dir/beside.time"
            started="$(awk -v a="$b" -v z="$t0" 'BEGIN {printf "%.3f", a - z}')"
            ended="$(awk -v a="$e" -v z="$t0" 'BEGIN {printf "%.3f", a - z}')"
        fi
    fi
    rm -f "$dir/deliveries.txt" "$dir/deliveries.txt.ready"
    NAME="$name" COMMAND="$command" COUNT="$count" NOMINAL="$seconds" WINDOW="$window" CAPPED="$capped" \
    STARTED="$started" ENDED="$ended" STATUS="$status" SWITCHED="$switched" \
    GENERATION_BEFORE="$generation_before" GENERATION_AFTER="$(metric availd_read_models_generation)" \
    LOG_POSITION="$(metric availd_log_position)" PROJECTION_POSITION="$(metric availd_projection_position)" \
    LOAD_BEFORE="$phase_load_before" LOAD_AFTER="$(loadavg)" \
    python3 - "$dir/wrk.out" "$dir/beside.out" "$dir/beside.err" > "$dir/phase.json" <<'PY'
import json, os, sys
env = os.environ
run = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
number = lambda v: None if v in ("", "null") else float(v)
phase = {
    "name": env["NAME"],
    "duration_s": run["duration_s"],
    "nominal_duration_s": float(env["NOMINAL"]),
    "lengthened": run["duration_s"] > float(env["NOMINAL"]) + 0.5,
    "acknowledged_per_s": run["acknowledged_per_s"],
    "requests": run["requests"],
    "status_2xx": run["status_2xx"],
    "status_202": run["status_202"],
    "status_200": run["status_200"],
    "non_2xx": run["non_2xx"],
    "statuses": run["statuses"],
    "socket_errors": run["errors"],
    "latency_ms": run["latency_ms"],
    "deliveries_generated": int(env["COUNT"]),
    "wraps": run["wraps"],
    "loadavg_before": env["LOAD_BEFORE"].split(),
    "loadavg_after": env["LOAD_AFTER"].split(),
    "daemon_after": {
        "read_models_generation_before": number(env["GENERATION_BEFORE"]),
        "read_models_generation": number(env["GENERATION_AFTER"]),
        "log_position": number(env["LOG_POSITION"]),
        "projection_position": number(env["PROJECTION_POSITION"]),
    },
    "beside": None,
}
if env["COMMAND"]:
    started, ended = float(env["STARTED"]), float(env["ENDED"])
    read = lambda path: open(path).read().strip() if os.path.exists(path) else ""
    phase["beside"] = {
        "command": "availd " + env["COMMAND"],
        "exit_status": int(env["STATUS"]),
        "started_after_s": started,
        "finished_after_s": ended,
        "wall_s": round(ended - started, 3),
        # Every delivery of its window measured: it finished before wrk was stopped.
        "finished_inside_phase": env["CAPPED"] != "true" and ended <= float(env["WINDOW"]),
        "finished_inside_nominal_phase": ended <= float(env["NOMINAL"]),
        "daemon_switched_after_s": number(env["SWITCHED"]) if env["COMMAND"] == "rebuild" else None,
        "output": read(sys.argv[2]),
        "stderr_tail": read(sys.argv[3])[-2000:],
    }
print(json.dumps(phase))
PY
    json_field "$dir/phase.json" '"   %.0f acknowledged/s over %.1f s, p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms, non-2xx %d%s" % (j["acknowledged_per_s"], j["duration_s"], j["latency_ms"]["p50"], j["latency_ms"]["p99"], j["latency_ms"]["p99.9"], j["latency_ms"]["max"], j["non_2xx"], ("; %s: %.1f s (exit %d)" % (j["beside"]["command"], j["beside"]["wall_s"], j["beside"]["exit_status"])) if j["beside"] else "")'
}

echo "-- warm-up, ${warmup}s"
mkdir -p "$work/warmup"
python3 bench/wrk/deliveries.py --count 20000 --seed "$stamp-warmup" --key "$key" --out "$work/warmup/deliveries.txt" 2> /dev/null
wrk -t"$threads" -c"$connections" -d"${warmup}s" --timeout 10s -s bench/wrk/webhook.lua \
    "$url/webhooks/calendly" -- "$work/warmup/deliveries.txt" "$threads" > "$work/warmup/wrk.out" 2> "$work/warmup/wrk.err"
rm -f "$work/warmup/deliveries.txt" "$work/warmup/deliveries.txt.ready"
warm_rate="$(json_field "$work/warmup/wrk.out" 'j["acknowledged_per_s"]')"
echo "   $(printf '%.0f' "$warm_rate") acknowledged/s"

# Deliveries for a phase of SECONDS: twice what the best rate so far would take, at least 1,000 a second.
best_rate="$warm_rate"
phase_count() { python3 -c "print(min($max_deliveries, int(max($best_rate, 1000) * $1 * 2) + 5000))"; }
# A rebuild or verify beside the load may take a few times its offline wall time.
expected="$(python3 -c "print(max($seconds, int($delay + 3 * $offline_rebuild_seconds + $tail_seconds + 1)))")"

for phase in quiet rebuild verify; do
    if [ "$phase" = quiet ]; then count="$(phase_count "$seconds")"; command=""; else count="$(phase_count "$expected")"; command="$phase"; fi
    echo "-- phase $phase${command:+ (availd $command after ${delay}s)}: $count deliveries"
    run_wrk_phase "$phase" "$count" "$command"
    best_rate="$(json_field "$work/$phase/phase.json" "max(j['acknowledged_per_s'], $best_rate)")"
done

echo "-- stopping the daemon; availd verify"
stop_server
verify_status=0
"$bin/availd" verify --database "$db" > "$work/verify.out" 2> "$work/verify.err" || verify_status=$?
cat "$work/verify.out"
stored="$(sed -n 's/^log [A-Za-z]*: \([0-9]*\) events.*/\1/p' "$work/verify.out")"
[ -n "$stored" ] || { echo "could not count what availd stored:" >&2; cat "$work/verify.out" "$work/verify.err" >&2; exit 1; }

STAMP="$stamp" STARTED="$started_at" MACHINE="$(machine_json "$load_before" "$(loadavg)")" \
BIN="$bin" LABEL="$label" DELIVERIES="$deliveries" SECONDS_NOMINAL="$seconds" CONNECTIONS="$connections" THREADS="$threads" \
WARMUP="$warmup" DELAY="$delay" TAIL="$tail_seconds" MAX_SECONDS="$max_seconds" TOLERANCE="$tolerance" THRESHOLD="$threshold_ms" \
BASE_EVENTS="$base_events" STORED="$stored" VERIFY_STATUS="$verify_status" VERIFY_OUT="$(cat "$work/verify.out")" \
GENERATE_OUT="$(cat "$work/generate.out")" GENERATE_SECONDS="$generate_seconds" \
OFFLINE_REBUILD_OUT="$(cat "$work/offline-rebuild.out")" OFFLINE_REBUILD_SECONDS="$offline_rebuild_seconds" \
WRK_VERSION="$(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)" AVAILD_SHA256="$(sha256sum "$bin/availd" | cut -d' ' -f1)" \
AVAILD_SIM_SHA256="$(sha256sum "$bin/availd-sim" | cut -d' ' -f1)" \
python3 - "$work/warmup/wrk.out" "$work/quiet/phase.json" "$work/rebuild/phase.json" "$work/verify/phase.json" "$out" <<'PY'
import json, os, sys
env = os.environ
warm = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
phases = [json.loads(open(path).read()) for path in sys.argv[2:5]]
out = sys.argv[5]
threshold = float(env["THRESHOLD"])
quiet = phases[0]["latency_ms"]

def against_quiet(phase):
    l = phase["latency_ms"]
    ratio = lambda p: l[p] / quiet[p] if quiet[p] else None
    return {
        "wall_s": phase["beside"]["wall_s"],
        "finished_inside_phase": phase["beside"]["finished_inside_phase"],
        "ratio_p99": ratio("p99"), "ratio_p99.9": ratio("p99.9"), "ratio_max": ratio("max"),
        "excess_max_ms": l["max"] - quiet["max"], "excess_p99.9_ms": l["p99.9"] - quiet["p99.9"],
        # The aim: no delivery delayed by more than 50 ms beyond the quiet phase's worst.
        "aim_met": l["max"] - quiet["max"] <= threshold,
    }

base = int(env["BASE_EVENTS"])
stored = int(env["STORED"])
acknowledged = warm["status_202"] + sum(p["status_202"] for p in phases)
stored_new = stored - base
vs = {p["name"]: against_quiet(p) for p in phases[1:]}
document = {
    "kind": "beside",
    "stamp": env["STAMP"],
    "started_at": env["STARTED"],
    "build": env["LABEL"],
    "settings": {
        "deliveries_in_log": int(env["DELIVERIES"]), "duration_s": int(env["SECONDS_NOMINAL"]),
        "connections": int(env["CONNECTIONS"]), "threads": int(env["THREADS"]), "warmup_s": int(env["WARMUP"]),
        "command_delay_s": float(env["DELAY"]), "tail_s": float(env["TAIL"]), "max_phase_s": int(env["MAX_SECONDS"]),
        "signature_tolerance_s": int(env["TOLERANCE"]), "aim_threshold_ms": threshold,
        "availd_bin": env["BIN"], "availd_build": env["LABEL"], "availd_commit": env.get("AVAILD_COMMIT") or None,
        "availd_sha256": env["AVAILD_SHA256"], "availd_sim_sha256": env["AVAILD_SIM_SHA256"], "wrk": env["WRK_VERSION"],
    },
    "machine": json.loads(env["MACHINE"]),
    "setup": {
        "generate": env["GENERATE_OUT"].strip(), "generate_s": float(env["GENERATE_SECONDS"]),
        "log_events_after_generate": base, "setup_events": base - int(env["DELIVERIES"]),
        "offline_rebuild": env["OFFLINE_REBUILD_OUT"].strip(), "offline_rebuild_s": float(env["OFFLINE_REBUILD_SECONDS"]),
    },
    "warmup": {k: warm[k] for k in ("duration_s", "status_2xx", "status_202", "non_2xx", "acknowledged_per_s", "latency_ms")},
    "phases": phases,
    "against_quiet": vs,
    "aim": {
        "statement": "a rebuild or verify beside a running daemon delays no delivery by more than 50 ms",
        "threshold_ms": threshold,
        "met": all(v["aim_met"] for v in vs.values()),
    },
    "store": {
        "verify": env["VERIFY_OUT"].strip(), "verify_exit_status": int(env["VERIFY_STATUS"]),
        "log_events": stored, "log_events_before_serve": base, "stored_new": stored_new,
        "acknowledged_202": acknowledged,
        # In flight when wrk stopped: stored, never answered to wrk (at most the connections, per run).
        "stored_not_acknowledged": max(0, stored_new - acknowledged),
        "lost": max(0, acknowledged - stored_new),
    },
}
with open(out, "w") as f:
    json.dump(document, f, indent=2)
    f.write("\n")

print()
print(f"{'phase':<8} {'seconds':>7} {'ack/s':>7} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'p99.9 ms':>9} {'max ms':>8} "
      f"{'non-2xx':>7} {'beside':>16}")
for p in phases:
    l = p["latency_ms"]
    b = p["beside"]
    beside = f"{b['command'].split()[-1]} {b['wall_s']:.1f} s" if b else "-"
    print(f"{p['name']:<8} {p['duration_s']:>7.1f} {p['acknowledged_per_s']:>7.0f} {l['p50']:>8.2f} {l['p90']:>8.2f} {l['p99']:>8.2f} "
          f"{l['p99.9']:>9.2f} {l['max']:>8.2f} {p['non_2xx']:>7} {beside:>16}")
for name, v in vs.items():
    fmt = lambda x: "-" if x is None else f"{x:.2f}x"
    print(f"{name} ÷ quiet: p99 {fmt(v['ratio_p99'])}, p99.9 {fmt(v['ratio_p99.9'])}, max {fmt(v['ratio_max'])}; "
          f"max {v['excess_max_ms']:+.1f} ms, p99.9 {v['excess_p99.9_ms']:+.1f} ms over quiet: "
          f"{'within' if v['aim_met'] else 'BEYOND'} {threshold:.0f} ms")
s = document["store"]
print(f"stored {s['stored_new']} new events, acknowledged (202) {s['acknowledged_202']}, lost {s['lost']}; verify exit {s['verify_exit_status']}")
problems = []
if s["lost"]:
    problems.append(f"lost {s['lost']} acknowledged deliveries")
if s["verify_exit_status"]:
    problems.append(f"availd verify after the run exited {s['verify_exit_status']}")
for p in phases:
    b = p["beside"]
    if b and b["exit_status"]:
        problems.append(f"phase {p['name']}: {b['command']} exited {b['exit_status']}")
    if b and not b["finished_inside_phase"]:
        problems.append(f"phase {p['name']}: {b['command']} did not finish inside the phase")
    if p["non_2xx"]:
        problems.append(f"phase {p['name']}: {p['non_2xx']} non-2xx {p['statuses']}")
    if p["wraps"]:
        problems.append(f"phase {p['name']}: wrapped to duplicates {p['wraps']} times")
    if not p["status_202"]:
        problems.append(f"phase {p['name']}: no 202")
for p in problems:
    print("WARNING " + p)
print(f"written {out}")
fatal = s["lost"] or s["verify_exit_status"] or any(p["beside"] and p["beside"]["exit_status"] for p in phases) \
    or any(not p["status_202"] for p in phases)
sys.exit(1 if fatal else 0)
PY
