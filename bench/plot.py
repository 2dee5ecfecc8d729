#!/usr/bin/env python3
"""Draws the benchmark results in bench/results/*.json into bench/results/*.png.

    .build-baseline/venv/bin/python bench/plot.py [--results DIR] [--out DIR]

(matplotlib, pinned in bench/requirements-plot.txt; `bench/venv.sh bench/requirements-plot.txt`
installs it into .build-baseline/venv; `make bench` does both.) Uses the Agg backend: no display.

Every JSON file with a "kind" this script knows is read; the others (for example the reports of
`availd-sim load --json` that bench/ingest.sh writes) are skipped, and so is a chart whose kind
has no file. For each build, the newest file (by its "stamp", else the file name) is drawn.

PNG files written:
  ingest-latency.png     (a) wrk latency percentiles p50/p90/p99/p99.9 per build/target, log scale:
                         the median over a file's rounds, whiskers from the lowest to the highest round
  ingest-throughput.png  (b) acknowledged deliveries/s per build/target (bar: overall, dots: rounds),
                         annotated with the ratio availd ÷ baseline
  projection-lag.png     (c) projection lag (p50, p99) against the ingest rate, per build
  rebuild-phases.png     (d) rebuild time by phase per build, annotated with events/s
  beside.png             (e) wrk latency p50/p99/p99.9/max while the daemon runs alone (quiet), with a
                         rebuild beside it and with a verify beside it, grouped by percentile, log
                         scale, with the aim's line (the quiet phase's max + 50 ms); the newest file

JSON shapes (write these from any script into bench/results/ and run this again):

kind "ingest-wrk": written by bench/ingest-wrk.sh; the fields used here:
    {"kind": "ingest-wrk", "stamp": "20260301T120000Z",
     "settings": {"duration_s": 20, "connections": 64, ...},
     "machine": {"nproc": 2, ...},
     "rounds": [{"target": "availd" | "baseline", "build": "availd" | "baseline (...)", "round": 1,
                 "acknowledged_per_s": 5000.0,
                 "latency_ms": {"p50": .., "p90": .., "p99": .., "p99.9": ..}}, ...],
     "ratio_availd_over_baseline": {"per_round": [{"round": 1, "ratio": 8.1}], "overall": 8.0}}

kind "lag": projection lag (a delivery's 2xx until it is readable) at several ingest rates:
    {"kind": "lag", "build": "availd dcdace4", "stamp": "...",            (stamp optional)
     "points": [{"rate": 1000, "lag_p50_ms": 3.1, "lag_p99_ms": 12.0}, ...]}
  "rate" is deliveries/s offered (or achieved); one line pair (p50 solid, p99 dashed) per build.

kind "rebuild": one rebuild of the read models from a log, split into phases:
    {"kind": "rebuild", "build": "availd dcdace4", "stamp": "...",        (stamp optional)
     "events": 1000000,
     "phases": [{"name": "read+decode", "seconds": 12.3}, {"name": "fold", "seconds": 6.5},
                {"name": "write read models", "seconds": 50.6}]}
  One stacked bar per build; the total's rate (events / sum of seconds) is written beside it.

kind "beside": written by bench/beside.sh (wrk at a moderate load on one daemon, in three phases:
alone, with `availd rebuild` beside it, with `availd verify` beside it); the fields used here:
    {"kind": "beside", "build": "availd", "stamp": "20260301T120000Z",
     "settings": {"duration_s": 30, "connections": 8, "threads": 2, "deliveries_in_log": 200000,
                  "aim_threshold_ms": 50, ...},
     "machine": {"nproc": 2, "loadavg_before": [..], "loadavg_after": [..], ...},
     "phases": [{"name": "quiet" | "rebuild" | "verify", "duration_s": 30.0, "acknowledged_per_s": 900.0,
                 "latency_ms": {"p50": .., "p90": .., "p99": .., "p99.9": .., "max": ..},
                 "beside": null | {"command": "availd rebuild", "wall_s": 14.2, ...}}, ...],
     "against_quiet": {"rebuild": {"ratio_p99": .., "ratio_p99.9": .., "ratio_max": ..,
                                   "excess_max_ms": .., "excess_p99.9_ms": .., "aim_met": true}, "verify": {..}}}
  Only the newest file is drawn (the phases of one run against one daemon belong together).
"""

import argparse
import glob
import json
import os
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)

PERCENTILES = ["p50", "p90", "p99", "p99.9"]
BESIDE_PERCENTILES = ["p50", "p99", "p99.9", "max"]
PHASE_COLORS = {"quiet": "#7f7f7f", "rebuild": "#1f77b4", "verify": "#ff7f0e"}
COLORS = ["#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#17becf", "#bcbd22"]
BASELINE_COLOR = "#d62728"


def load(results):
    """{kind: [(path, document), ...]} for every JSON file with a known kind."""
    found = {"ingest-wrk": [], "lag": [], "rebuild": [], "beside": []}
    for path in sorted(glob.glob(os.path.join(results, "*.json"))):
        try:
            with open(path) as f:
                document = json.load(f)
        except (OSError, ValueError) as error:
            print(f"skipped {path}: {error}", file=sys.stderr)
            continue
        kind = document.get("kind") if isinstance(document, dict) else None
        if kind in found:
            found[kind].append((path, document))
    return found


def newest_first(entries):
    return sorted(entries, key=lambda e: (str(e[1].get("stamp", "")), os.path.basename(e[0])), reverse=True)


def newest_per_build(entries):
    """For files that each describe one build (lag, rebuild): the newest file per build."""
    chosen = {}
    for path, document in newest_first(entries):
        chosen.setdefault(str(document.get("build", "?")), (path, document))
    return chosen


def ingest_series(entries):
    """[(name, [round, ...], document)]: per availd build the newest run that measured it, and the
    baseline from the newest run overall. Each series keeps the rounds of that one file."""
    series, seen = [], set()
    baseline = None
    for path, document in newest_first(entries):
        rounds = document.get("rounds", [])
        for build in dict.fromkeys(r.get("build", "?") for r in rounds if r.get("target") == "availd"):
            if build not in seen:
                seen.add(build)
                series.append((build, [r for r in rounds if r.get("target") == "availd" and r.get("build") == build], document))
        if baseline is None and any(r.get("target") == "baseline" for r in rounds):
            baseline = ("baseline (FastAPI, uvicorn × 2)", [r for r in rounds if r.get("target") == "baseline"], document)
    if baseline:
        series.append(baseline)
    return series


def color(name, index):
    return BASELINE_COLOR if name.startswith("baseline") else COLORS[index % len(COLORS)]


def context_line(document):
    settings, machine = document.get("settings", {}), document.get("machine", {})
    parts = []
    if settings:
        parts.append(f"wrk {settings.get('connections', '?')} connections, {settings.get('threads', '?')} threads, "
                     f"{settings.get('duration_s', '?')} s per round")
    if machine:
        parts.append(f"{machine.get('nproc', '?')} cores, load {' '.join(machine.get('loadavg_before', [])[:1])}"
                     f"→{' '.join(machine.get('loadavg_after', [])[:1])}")
    if document.get("stamp"):
        parts.append(document["stamp"])
    return "; ".join(parts)


def plot_latency(series, out):
    fig, ax = plt.subplots(figsize=(9, 5.2))
    width = 0.8 / len(series)
    for index, (name, rounds, _) in enumerate(series):
        medians, low, high = [], [], []
        for p in PERCENTILES:
            values = [r["latency_ms"][p] for r in rounds if p in r.get("latency_ms", {})]
            m = statistics.median(values) if values else float("nan")
            medians.append(m)
            low.append(m - min(values) if values else 0)
            high.append(max(values) - m if values else 0)
        xs = [i + (index - (len(series) - 1) / 2) * width for i in range(len(PERCENTILES))]
        bars = ax.bar(xs, medians, width * 0.92, label=f"{name} ({len(rounds)} rounds)", color=color(name, index),
                      yerr=[low, high], capsize=3, error_kw={"elinewidth": 1, "alpha": 0.7})
        for bar, value, above in zip(bars, medians, high):
            # Above the whisker, so the two do not overlap.
            ax.annotate(f"{value:.1f}" if value < 100 else f"{value:.0f}", (bar.get_x() + bar.get_width() / 2, value + above),
                        xytext=(0, 3), textcoords="offset points", ha="center", va="bottom", fontsize=8)
    ax.set_yscale("log")
    ax.set_xticks(range(len(PERCENTILES)))
    ax.set_xticklabels(PERCENTILES)
    ax.set_ylabel("latency, ms (log scale)")
    ax.set_title("Webhook ingest latency under wrk (every 2xx durable)")
    ax.grid(axis="y", which="both", alpha=0.3)
    ax.legend(fontsize=9)
    fig.text(0.01, 0.01, context_line(series[0][2]), fontsize=7, alpha=0.7)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(out, dpi=120)
    plt.close(fig)


def plot_throughput(series, out):
    fig, ax = plt.subplots(figsize=(8, 5))
    overall = {}
    for index, (name, rounds, _) in enumerate(series):
        rates = [r["acknowledged_per_s"] for r in rounds]
        seconds = [r.get("duration_s", 1) for r in rounds]
        acknowledged = [r.get("acknowledged", rate * s) for r, rate, s in zip(rounds, rates, seconds)]
        value = sum(acknowledged) / sum(seconds) if rounds else 0
        overall[name] = value
        ax.bar(index, value, 0.6, color=color(name, index), alpha=0.85, label=name)
        ax.text(index, value / 2, f"{value:,.0f}/s", ha="center", va="center", fontsize=12, fontweight="bold",
                color="white")
        xs = [index + 0.36 + k * 0.07 for k in range(len(rates))]
        ax.scatter(xs, rates, color="black", s=16, zorder=3, label="one round" if index == 0 else None)
        for x, rate, r in zip(xs, rates, rounds):
            ax.annotate(f"r{r.get('round', '?')}", (x, rate), xytext=(4, 0), textcoords="offset points",
                        va="center", fontsize=7)
    ax.set_xticks(range(len(series)))
    ax.set_xticklabels([name for name, _, _ in series], fontsize=9)
    ax.set_xlim(-0.5, len(series) - 0.5 + 0.25)
    ax.set_ylabel("acknowledged deliveries per second")
    ax.set_title("Webhook ingest throughput under wrk (durable 2xx/s)")
    ax.grid(axis="y", alpha=0.3)
    ax.set_ylim(0, max(overall.values()) * 1.25 if overall else 1)
    baseline = next((v for n, v in overall.items() if n.startswith("baseline")), None)
    lines = []
    for name, _, document in series:
        if name.startswith("baseline") or not baseline:
            continue
        ratio = document.get("ratio_availd_over_baseline") or {}
        per_round = ", ".join(f"{p['ratio']:.1f}×" for p in ratio.get("per_round", []))
        lines.append(f"{name} ÷ baseline: {overall[name] / baseline:.1f}×" + (f"  (rounds: {per_round})" if per_round else ""))
    if lines:
        ax.text(0.98, 0.97, "\n".join(lines), transform=ax.transAxes, ha="right", va="top", fontsize=10,
                bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.9, "edgecolor": "#999"})
    ax.legend(loc="upper left", fontsize=8)
    fig.text(0.01, 0.01, context_line(series[0][2]), fontsize=7, alpha=0.7)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(out, dpi=120)
    plt.close(fig)


def plot_lag(chosen, out):
    fig, ax = plt.subplots(figsize=(8, 5))
    for index, (build, (_, document)) in enumerate(sorted(chosen.items())):
        points = sorted(document.get("points", []), key=lambda p: p.get("rate", 0))
        if not points:
            continue
        rates = [p["rate"] for p in points]
        c = COLORS[index % len(COLORS)]
        ax.plot(rates, [p.get("lag_p50_ms") for p in points], "o-", color=c, label=f"{build}: p50")
        ax.plot(rates, [p.get("lag_p99_ms") for p in points], "s--", color=c, label=f"{build}: p99")
    ax.set_yscale("log")
    ax.set_xlabel("ingest rate offered, deliveries/s (open loop)")
    ax.set_ylabel("projection lag, ms (2xx until readable; log scale)")
    ax.set_title("Ingest rate against projection lag")
    ax.grid(which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)


def plot_rebuild(chosen, out):
    items = sorted(chosen.items())
    fig, ax = plt.subplots(figsize=(9, 1.6 + 0.8 * len(items)))
    phase_colors = {}
    for row, (build, (_, document)) in enumerate(items):
        left = 0.0
        for phase in document.get("phases", []):
            name, seconds = phase.get("name", "?"), float(phase.get("seconds", 0))
            first = name not in phase_colors
            if first:
                phase_colors[name] = COLORS[len(phase_colors) % len(COLORS)]
            ax.barh(row, seconds, left=left, color=phase_colors[name], edgecolor="white", label=name if first else None)
            if seconds > 0:
                ax.text(left + seconds / 2, row, f"{seconds:.1f} s", ha="center", va="center", fontsize=8, color="white")
            left += seconds
        events = document.get("events")
        if events and left:
            ax.text(left, row, f"  {events:,} events: {events / left:,.0f}/s", va="center", fontsize=9)
    ax.set_yticks(range(len(items)))
    ax.set_yticklabels([build for build, _ in items], fontsize=9)
    ax.set_xlabel("seconds")
    ax.set_title("Rebuild of the read models, by phase")
    ax.set_xlim(0, ax.get_xlim()[1] * 1.35)
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)


def plot_beside(document, out):
    phases = document.get("phases", [])
    settings = document.get("settings", {})
    fig, ax = plt.subplots(figsize=(9, 5.2))
    width = 0.8 / len(phases)
    for index, phase in enumerate(phases):
        name = phase.get("name", "?")
        latency = phase.get("latency_ms", {})
        values = [latency.get(p, float("nan")) for p in BESIDE_PERCENTILES]
        xs = [i + (index - (len(phases) - 1) / 2) * width for i in range(len(BESIDE_PERCENTILES))]
        beside = phase.get("beside")
        label = f"{name}: {phase.get('acknowledged_per_s', 0):,.0f}/s over {phase.get('duration_s', 0):.0f} s"
        if beside:
            label += f"; {beside.get('command', name)} took {beside.get('wall_s', 0):.1f} s"
        bars = ax.bar(xs, values, width * 0.92, label=label,
                      color=PHASE_COLORS.get(name, COLORS[index % len(COLORS)]))
        for bar, value in zip(bars, values):
            ax.annotate(f"{value:.1f}" if value < 100 else f"{value:.0f}", (bar.get_x() + bar.get_width() / 2, value),
                        xytext=(0, 3), textcoords="offset points", ha="center", va="bottom", fontsize=8)
    quiet = next((p for p in phases if p.get("name") == "quiet"), None)
    threshold = settings.get("aim_threshold_ms", 50)
    if quiet and "max" in quiet.get("latency_ms", {}):
        limit = quiet["latency_ms"]["max"] + threshold
        ax.axhline(limit, color="#d62728", linestyle="--", linewidth=1,
                   label=f"aim: quiet max + {threshold:g} ms = {limit:.0f} ms")
    ax.set_yscale("log")
    ax.set_xticks(range(len(BESIDE_PERCENTILES)))
    ax.set_xticklabels(BESIDE_PERCENTILES)
    ax.set_ylabel("webhook latency, ms (log scale)")
    log = settings.get("deliveries_in_log")
    ax.set_title("Webhook latency with a rebuild or verify beside the daemon"
                 + (f" ({log:,}-delivery log)" if log else ""))
    ax.grid(axis="y", which="both", alpha=0.3)
    top = max((p.get("latency_ms", {}).get("max", 0) for p in phases), default=1)
    ax.set_ylim(top=top * 2.5)
    ax.legend(fontsize=8, loc="upper left")
    machine = document.get("machine", {})
    loads = ", ".join(f"{p.get('name', '?')} {(p.get('loadavg_before') or ['?'])[0]}→{(p.get('loadavg_after') or ['?'])[0]}"
                      for p in phases)
    footer = (f"wrk {settings.get('connections', '?')} connections, {settings.get('threads', '?')} threads, phases of at least "
              f"{settings.get('duration_s', '?')} s; {machine.get('nproc', '?')} cores, "
              f"load per phase {loads}; {document.get('stamp', '')}")
    fig.text(0.01, 0.01, footer, fontsize=7, alpha=0.7)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(out, dpi=120)
    plt.close(fig)


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description="Draw bench/results/*.json into PNG files.")
    parser.add_argument("--results", default=os.path.join(here, "results"), help="folder of JSON results")
    parser.add_argument("--out", help="folder for the PNG files [the results folder]")
    args = parser.parse_args(argv)
    out = args.out or args.results
    os.makedirs(out, exist_ok=True)

    found = load(args.results)
    written = []
    series = ingest_series(found["ingest-wrk"])
    if series:
        plot_latency(series, os.path.join(out, "ingest-latency.png"))
        plot_throughput(series, os.path.join(out, "ingest-throughput.png"))
        written += ["ingest-latency.png", "ingest-throughput.png"]
    else:
        print("no ingest-wrk results: skipped the latency and throughput charts", file=sys.stderr)
    lag = newest_per_build(found["lag"])
    if lag:
        plot_lag(lag, os.path.join(out, "projection-lag.png"))
        written.append("projection-lag.png")
    else:
        print("no lag results: skipped the lag chart", file=sys.stderr)
    rebuild = newest_per_build(found["rebuild"])
    if rebuild:
        plot_rebuild(rebuild, os.path.join(out, "rebuild-phases.png"))
        written.append("rebuild-phases.png")
    else:
        print("no rebuild results: skipped the rebuild chart", file=sys.stderr)
    beside = newest_first(found["beside"])
    if beside and beside[0][1].get("phases"):
        plot_beside(beside[0][1], os.path.join(out, "beside.png"))
        written.append("beside.png")
    else:
        print("no beside results: skipped the beside chart", file=sys.stderr)
    for name in written:
        print(os.path.join(out, name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
