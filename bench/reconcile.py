#!/usr/bin/env python3
"""One reconciliation pass over many experts, against the Calendly stand-in.

    bench/reconcile.py [BIN_DIR] [EXPERTS] [EVENTS]

BIN_DIR defaults to `swift build -c release --show-bin-path`; EXPERTS to 100, EVENTS to 200.

1. Writes a stand-in seed (the format of fixtures/calendly-api/state.json) to a temp dir: one
   organization, its owner (whose token is availd's organization token) and EXPERTS users,
   each owning one 30-minute event type; everyone in UTC, working hours 09:00-17:00 Monday to
   Friday (16 slots a day), so EVENTS bookings each take the first EVENTS weekday slots from
   tomorrow on (200: two and a half weeks).
2. Starts `availd-sim calendly` with its rate limits lifted and `availd serve` (organization
   token, `--reconcile-interval 0`: no background passes) on loopback, creates EXPERTS experts
   and connects each to its user's event type with the admin token.
3. Books EXPERTS x EVENTS at the stand-in (`POST /invitees`, 8 at a time) and cancels every
   tenth. No webhook subscription points at availd, so the log knows none of them: the worst
   case for a pass.
4. Copies the database with the daemon stopped, then times `availd calendly reconcile` over
   every expert twice on each copy: once with no daemon, once beside the running daemon (whose
   projector then also folds what the command appends). The first pass reads every event's
   invitees and appends them all; the second finds every event known whole (future, counts
   matching), so it lists only: the baseline. For each pass: wall time, the requests the
   stand-in saw (`GET /_sim/requests`, before/after) and the command's own count, appended,
   when its first and last Calendly calls came, the command's RSS (`/proc/PID/status` every
   100 ms: at its first call, at 25/50/75 % of the pass by time, at the end, VmHWM, and
   anonymous + file-backed by tenth), its CPU time, the stand-in's and the daemon's, and the
   read models checked afterwards (every booking, every cancellation).

Python standard library only; nothing leaves loopback. Prints Markdown tables and the machine.
The temp dir (seed, databases, the processes' stderr) is removed after a good run, kept if not.
"""
import concurrent.futures
import copy
import glob
import http.client
import json
import os
import platform
import re
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
bin_dir = sys.argv[1] if len(sys.argv) > 1 else subprocess.check_output(
    ["swift", "build", "-c", "release", "--show-bin-path"], cwd=HERE, text=True).strip()
experts = int(sys.argv[2]) if len(sys.argv) > 2 else 100
events = int(sys.argv[3]) if len(sys.argv) > 3 else 200
CANCEL_EVERY = 10
PAGE = 100  # the reconciler's page size (Reconciler.Settings.pageSize)
ORG_TOKEN, ADMIN = "bench-organization-token", "bench-admin"
NAMESPACE = uuid.UUID("6f1c2a4e-5b7d-4e8f-9a0b-1c2d3e4f5a6b")
# availd's options also come from AVAILD_* variables: none of the caller's may point it elsewhere.
ENV = {k: v for k, v in os.environ.items() if not k.startswith("AVAILD_")}
CLOCK_TICK = os.sysconf("SC_CLK_TCK")


def uid(*parts):
    return str(uuid.uuid5(NAMESPACE, "/".join(map(str, parts))))


def expert_id(i):
    return f"expert-{i:03d}"


# 1. The seed, from the fixture's own records.
fixture = json.load(open(os.path.join(HERE, "fixtures/calendly-api/state.json")))
organization = f"https://api.calendly.com/organizations/{uid('organization')}"
owner = copy.deepcopy(next(u for u in fixture["users"] if u["token"] == "calendly-token-admin"))
owner["token"] = ORG_TOKEN
owner["user"].update(uri=f"https://api.calendly.com/users/{uid('owner')}", timezone="UTC", current_organization=organization)
template = next(t for t in fixture["event_types"] if t["duration"] == 30)
users, event_types = [owner], []
for i in range(experts):
    slug = f"bench-expert-{i:03d}"
    user_uri = f"https://api.calendly.com/users/{uid('user', i)}"
    users.append({"token": f"bench-user-token-{i}", "role": "user", "user": {
        "uri": user_uri, "name": f"Bench Expert {i}", "slug": slug, "email": f"{slug}@experts.example",
        "scheduling_url": f"https://calendly.com/{slug}", "timezone": "UTC", "current_organization": organization}})
    event_type = copy.deepcopy(template)
    event_type.update(uri=f"https://api.calendly.com/event_types/{uid('event type', i)}",
                      scheduling_url=f"https://calendly.com/{slug}/30min", profile={"owner": user_uri})
    event_types.append(event_type)
seed = {"available_times_max_days": 31, "working_hours": {"from": "09:00", "to": "17:00"}, "organization": organization,
        "users": users, "event_types": event_types}

# The stand-in offers the owner's working hours Monday to Friday, in the future: the first
# EVENTS such 30-minute slots from tomorrow (UTC) on, the same times for every event type.
slots, day = [], datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
while len(slots) < events:
    if day.weekday() < 5:
        slots += [day + timedelta(hours=9, minutes=30 * k) for k in range(16)]
    day += timedelta(days=1)
slots = [s.strftime("%Y-%m-%dT%H:%M:%SZ") for s in slots[:events]]

folder = tempfile.mkdtemp(prefix="availd-bench-reconcile-")
seed_path = os.path.join(folder, "state.json")
json.dump(seed, open(seed_path, "w"), indent=1)
database = os.path.join(folder, "running", "availd.sqlite")
os.makedirs(os.path.dirname(database))


def start(arguments, name):
    """A process whose first stdout line naming its URL is awaited; the rest of stdout drained."""
    process = subprocess.Popen(arguments, cwd=HERE, env=ENV, stdout=subprocess.PIPE,
                               stderr=open(os.path.join(folder, f"{name}.stderr"), "a"), text=True)
    for line in process.stdout:
        found = re.search(r"listening on (http://\S+)", line)
        if found:
            threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()
            return process, found.group(1)
    raise SystemExit(f"{name} did not start: see {folder}/{name}.stderr")


def stop(process):
    if process and process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


class Client:
    """One keep-alive connection per thread."""

    def __init__(self, base, token):
        self.host, self.port = base.removeprefix("http://").split(":")
        self.token = token
        self.local = threading.local()

    def send(self, method, path, body=None):
        for attempt in range(3):
            if not hasattr(self.local, "connection"):
                self.local.connection = http.client.HTTPConnection(self.host, int(self.port), timeout=120)
            try:
                self.local.connection.request(method, path, body=json.dumps(body) if body is not None else None, headers={
                    "Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
                answer = self.local.connection.getresponse()
                data = answer.read()
                return answer.status, (json.loads(data) if data and data[:1] in b"{[" else data)
            except (ConnectionError, http.client.HTTPException):
                del self.local.connection
                if attempt == 2:
                    raise


def proc_status(pid, *fields):
    """KiB, from /proc/PID/status; one field's value, or a tuple of several."""
    with open(f"/proc/{pid}/status") as status:
        found = {line.split(":")[0]: int(line.split()[1]) for line in status if line.split(":")[0] in fields}
    values = tuple(found[field] for field in fields)
    return values[0] if len(values) == 1 else values


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICK


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def appointments(path):
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return dict(db.execute("SELECT status, count(*) FROM appointments WHERE calendar_type = 'calendly' GROUP BY status"))


sim = daemon = None
try:
    sim, calendly = start([os.path.join(bin_dir, "availd-sim"), "calendly", "--state", seed_path, "--port", "0",
                           # What is measured is availd: Calendly's per-user limits (500 calls and 10
                           # bookings a minute, all of them the owner's here) are lifted.
                           "--rate-limit", "100000000", "--invitees-limit", "100000000"], "stand-in")
    serve = [os.path.join(bin_dir, "availd"), "serve", "--port", "0", "--database", database, "--admin-token", ADMIN,
             "--signing-key", "bench-key", "--calendly-api", calendly, "--calendly-token", ORG_TOKEN,
             "--reconcile-interval", "0"]
    daemon, base = start(serve, "daemon")
    standin, availd = Client(calendly, ORG_TOKEN), Client(base, ADMIN)

    def sim_requests():
        return int(standin.send("GET", "/_sim/requests")[1])

    # 2. Experts, each connected to its user's event type with the organization token.
    setup_started = time.perf_counter()
    for i, event_type in enumerate(event_types):
        status, body = availd.send("PUT", f"/experts/{expert_id(i)}", {
            "name": f"Bench Expert {i}", "email": users[i + 1]["user"]["email"], "timezone": "UTC"})
        assert status == 200, (status, body)
        status, body = availd.send("PUT", f"/experts/{expert_id(i)}/integration",
                                   {"type": "calendly", "event_types": [event_type["uri"]]})
        assert status == 200, (status, body)
    connected = time.perf_counter() - setup_started

    # 3. The bookings, and a tenth of them canceled, none of it delivered to availd.
    def book(job):
        i, k = job
        status, body = standin.send("POST", "/invitees", {
            "event_type": event_types[i]["uri"], "start_time": slots[k],
            "invitee": {"email": f"guest-{i}-{k}@invitees.example", "name": f"Guest {i}-{k}", "timezone": "UTC"}})
        assert status == 201, (status, body)
        return body["resource"]["event"].rsplit("/", 1)[1]

    def cancel(event):
        status, body = standin.send("POST", f"/scheduled_events/{event}/cancellation", {"reason": "bench"})
        assert status == 201, (status, body)

    booking_started = time.perf_counter()
    jobs = [(i, k) for k in range(events) for i in range(experts)]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        booked = list(pool.map(book, jobs, chunksize=64))
        canceled = booked[::CANCEL_EVERY]
        list(pool.map(cancel, canceled, chunksize=64))
    booking_time = time.perf_counter() - booking_started
    total, cancels = len(booked), len(canceled)

    # 4. The same log twice: one copy reconciled with no daemon, one beside it.
    stop(daemon)
    daemon = None
    alone = os.path.join(folder, "alone", "availd.sqlite")
    os.makedirs(os.path.dirname(alone))
    for path in glob.glob(database + "*"):
        shutil.copy(path, alone + path[len(database):])

    def reconcile(path, beside):
        """One `availd calendly reconcile` over every expert, sampled every 100 ms."""
        before, load_before = sim_requests(), os.getloadavg()[0]
        sim_cpu, daemon_cpu = cpu_seconds(sim.pid), beside and cpu_seconds(beside.pid)
        daemon_rss = beside and proc_status(beside.pid, "VmRSS")
        own_cpu = children_cpu()
        started = time.perf_counter()
        process = subprocess.Popen([os.path.join(bin_dir, "availd"), "calendly", "reconcile", "--database", path,
                                    "--calendly-api", calendly, "--calendly-token", ORG_TOKEN],
                                   cwd=HERE, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        samples = []  # (seconds since start, VmRSS KiB, VmHWM KiB, stand-in requests, RssAnon KiB, RssFile KiB)

        def sample():
            sampler = Client(calendly, ORG_TOKEN)
            while process.poll() is None:
                tick = time.perf_counter()
                try:
                    rss, hwm, anon, file = proc_status(process.pid, "VmRSS", "VmHWM", "RssAnon", "RssFile")
                except (OSError, KeyError):
                    break  # gone, or a zombie (no Vm* lines)
                samples.append((tick - started, rss, hwm, int(sampler.send("GET", "/_sim/requests")[1]), anon, file))
                time.sleep(max(0.0, 0.1 - (time.perf_counter() - tick)))

        sampler = threading.Thread(target=sample)
        sampler.start()
        out, err = process.communicate()
        wall = time.perf_counter() - started
        sampler.join()
        own_cpu = children_cpu() - own_cpu
        assert process.returncode == 0, (process.returncode, out, err)
        lines = [line.split() for line in out.splitlines() if line.startswith("expert ")]
        per_expert = [int(line[line.index("requests") + 1]) for line in lines]
        appended = int(re.search(r"reconciled (\d+) experts, appended (\d+)", out).group(2))
        assert len(lines) == experts, out
        # When the command last asked Calendly: what follows is the last page's projection and the exit.
        asked = [s[0] for previous, s in zip(samples, samples[1:]) if s[3] > previous[3]]

        def at(fraction, field=1):
            return min(samples, key=lambda s: abs(s[0] - wall * fraction))[field] if samples else 0

        return {
            "beside": "running" if beside else "stopped", "wall": wall, "sim": sim_requests() - before,
            "reported": sum(per_expert), "min": min(per_expert), "max": max(per_expert), "appended": appended,
            # Start: once it first asks Calendly (before then it is still loading and opening the database).
            "rss": [next((s[1] for s in samples if s[0] >= (asked[0] if asked else 0)), 0)]
            + [at(q) for q in (0.25, 0.5, 0.75)] + [samples[-1][1]] if samples else [],
            "peak": max(s[2] for s in samples) if samples else 0, "samples": len(samples),
            # Anonymous (heap, SQLite's page caches) and file-backed (the binary, libraries) RSS by tenth.
            "tenths": [(at(q / 10, 4), at(q / 10, 5)) for q in range(1, 11)],
            "first_call": asked[0] if asked else 0, "last_call": asked[-1] if asked else wall,
            "cpu": own_cpu, "sim_cpu": cpu_seconds(sim.pid) - sim_cpu,
            "daemon_cpu": beside and cpu_seconds(beside.pid) - daemon_cpu,
            "daemon_rss": beside and (daemon_rss, proc_status(beside.pid, "VmRSS")),
            "load": (load_before, os.getloadavg()[0]), "read_models": appointments(path),
        }

    load_start = os.getloadavg()
    passes = [reconcile(alone, None), reconcile(alone, None)]
    daemon, _ = start(serve, "daemon")
    passes += [reconcile(database, daemon), reconcile(database, daemon)]
    load_end = os.getloadavg()
finally:
    stop(daemon)
    stop(sim)

# 5/6. The figures.
expected = {"scheduled": total - cancels, "canceled": cancels}
for run in passes:
    assert run["read_models"] == expected, (run["read_models"], expected)
pages = max(1, -(-events // PAGE))
mib = lambda kib: f"{kib / 1024:.1f}"
swift = subprocess.run(["swift", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
memory = next(line for line in open("/proc/meminfo") if line.startswith("MemTotal")).split()[1]
build = "release" if "/release" in bin_dir else "debug" if "/debug" in bin_dir else "?"
print(f"bench/reconcile.py, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC: {experts} experts x {events} events "
      f"({total} bookings, {cancels} canceled, none delivered), binaries from {bin_dir}")
print(f"{platform.machine()}, {os.cpu_count()} cores, {int(memory) / 1024 / 1024:.1f} GiB, Linux {platform.release()}, "
      f"{swift}, {build} build; load average (1/5/15 min) {' '.join(f'{x:.2f}' for x in load_start)} before the passes, "
      f"{' '.join(f'{x:.2f}' for x in load_end)} after")
print(f"setup: {experts} experts connected in {connected:.1f} s; {total} bookings and {cancels} cancellations at "
      f"the stand-in in {booking_time:.1f} s")
print()
print("| pass | daemon | wall | requests (stand-in) | per expert (min-max) | appended | calls from / to | "
      "CPU: reconcile / stand-in / daemon |")
print("| --- | --- | --- | --- | --- | --- | --- | --- |")
for n, run in enumerate(passes):
    daemon_cpu = f"{run['daemon_cpu']:.1f} s" if run["beside"] == "running" else "-"
    print(f"| {'first' if n % 2 == 0 else 'second'} | {run['beside']} | {run['wall']:.2f} s | {run['sim']} "
          f"(command: {run['reported']}) | {run['reported'] / experts:.1f} ({run['min']}-{run['max']}) | {run['appended']} "
          f"| {run['first_call']:.2f} / {run['last_call']:.2f} s | {run['cpu']:.1f} / {run['sim_cpu']:.1f} s / {daemon_cpu} |")
print()
print("| pass | daemon | RSS MiB: first call / 25 % / 50 % / 75 % / end | peak (VmHWM) | samples | daemon RSS MiB before / after |")
print("| --- | --- | --- | --- | --- | --- |")
for n, run in enumerate(passes):
    daemon_rss = " / ".join(map(mib, run["daemon_rss"])) if run["beside"] == "running" else "-"
    print(f"| {'first' if n % 2 == 0 else 'second'} | {run['beside']} | {' / '.join(map(mib, run['rss']))} | "
          f"{mib(run['peak'])} | {run['samples']} | {daemon_rss} |")
print()
for first, second in (passes[0:2], passes[2:4]):
    print(f"daemon {first['beside']}: first pass / second pass, wall **{first['wall'] / second['wall']:.1f}x**, "
          f"requests per expert {first['reported'] / experts:.1f} / {second['reported'] / experts:.1f} "
          f"(expected {pages + events} / {pages}), first pass {first['wall'] / experts * 1000:.0f} ms per expert, "
          f"{first['wall'] / max(1, first['reported']) * 1000:.2f} ms per request")
print(f"read models after every pass: {expected['scheduled']} scheduled, {expected['canceled']} canceled")
for n, run in enumerate(passes):
    print(f"RSS by tenth of the {'first' if n % 2 == 0 else 'second'} pass, daemon {run['beside']}, anonymous + file MiB: "
          + ", ".join(f"{mib(anon)}+{mib(file)}" for anon, file in run["tenths"]))
shutil.rmtree(folder)
