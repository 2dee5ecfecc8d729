#!/usr/bin/env bash
# A rebuild's rate by phase, builds side by side in the same minutes:
#
#     bench/rebuild.sh                              # the release build of this tree
#     bench/rebuild.sh base=/work/a/bin new=.build/release   # LABEL=DIR of availd-sim, A/B
#
# Generates a log of BENCH_DELIVERIES (200,000) generated deliveries once, with the first build's
# `availd-sim generate` (kept in .build-bench/ for the next run), then runs `availd-sim
# rebuild-bench` on it for every build in turn, BENCH_ROUNDS (2) times, alternating. Each round
# times the fold (read, decode and fold the log in memory) and the write (a new generation of the
# read models), and the process's CPU (user + system). Writes
# bench/results/rebuild-<stamp>-<label>.json (kind "rebuild", the round with the median total;
# every round under "rounds") for bench/plot.py.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

deliveries="${BENCH_DELIVERIES:-200000}"
rounds="${BENCH_ROUNDS:-2}"
labelled_builds "$@"
[ -x /usr/bin/time ] || install_or_explain "bench/rebuild.sh needs GNU time; install it with:" time

first="$(build_dir "${builds[0]}")"
mkdir -p .build-bench
log=".build-bench/rebuild-$deliveries.sqlite"
if [ ! -f "$log" ]; then
    echo "== generating $deliveries deliveries into $log" >&2
    "$first/availd-sim" generate --database "$log.partial" --deliveries "$deliveries" >&2
    for file in "$log.partial"*; do mv "$file" "${file/.partial/}"; done
fi

new_results
load_before="$(loadavg)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for round in $(seq 1 "$rounds"); do
    for build in "${builds[@]}"; do
        label="$(build_label "$build")" dir="$(build_dir "$build")"
        out="$work/$label-$round"
        /usr/bin/time -f 'cpu %U %S' -o "$out.time" "$dir/availd-sim" rebuild-bench --database "$log" >"$out.txt"
        echo "== round $round $label: $(sed -n 's/^  rebuild total *//p' "$out.txt"), $(cat "$out.time")" >&2
    done
done
machine="$(machine_since "$load_before")"

for build in "${builds[@]}"; do
    label="$(build_label "$build")"
    WORK="$work" LABEL="$label" ROUNDS="$rounds" MACHINE="$machine" STAMP="$stamp" DELIVERIES="$deliveries" \
        python3 - >"$results/rebuild-$stamp-$label.json" <<'PY'
import json, os, re
env = os.environ
rounds = []
for round in range(1, int(env["ROUNDS"]) + 1):
    base = f'{env["WORK"]}/{env["LABEL"]}-{round}'
    text = open(base + ".txt").read()
    events = int(re.search(r"rebuild-bench: (\d+) events", text).group(1))
    fold = float(re.search(r"fold \(read log.*?\)\s+([\d.]+) s", text).group(1))
    write = float(re.search(r"write read models.*?\s([\d.]+) s", text).group(1))
    user, system = map(float, open(base + ".time").read().split()[1:3])
    rounds.append({"round": round, "events": events, "fold_s": fold, "write_s": write,
                   "events_per_s": events / (fold + write),
                   "cpu_s": user + system})
median = sorted(rounds, key=lambda r: r["fold_s"] + r["write_s"])[len(rounds) // 2]
print(json.dumps({
    "kind": "rebuild", "build": env["LABEL"], "stamp": env["STAMP"], "events": median["events"],
    "phases": [{"name": "read + decode + fold", "seconds": median["fold_s"]},
               {"name": "write read models", "seconds": median["write_s"]}],
    "rounds": rounds, "machine": json.loads(env["MACHINE"]),
    "settings": {"deliveries": int(env["DELIVERIES"]), "rounds": int(env["ROUNDS"])},
}))
PY
    echo "== wrote $results/rebuild-$stamp-$label.json" >&2
done
