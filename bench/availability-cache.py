#!/usr/bin/env python3
"""RSS and Calendly calls of availd's availability cache under distinct ranges.

    bench/availability-cache.py [BIN_DIR] [REQUESTS]

Starts the Calendly stand-in and `BIN_DIR/availd serve` (default: `swift build
--show-bin-path`) on free loopback ports, connects Grace to her 60-minute event type, asks for
100 seven-day ranges to warm up, then REQUESTS (default 3000) more whose start times differ by
a microsecond each (what a page that asks "from now" does), and prints the daemon's RSS growth
and how many times the stand-in was asked for available times. Run it with two builds to
compare them; Python standard library only.
"""
import datetime
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
bin_dir = sys.argv[1] if len(sys.argv) > 1 else subprocess.check_output(
    ["swift", "build", "--show-bin-path"], cwd=HERE, text=True).strip()
requests = int(sys.argv[2]) if len(sys.argv) > 2 else 3000


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


port, calendly_port = free_port(), free_port()
folder = tempfile.mkdtemp()
sim_bin = os.path.join(bin_dir, "availd-sim")
sim = subprocess.Popen([sim_bin, "calendly", "--port", str(calendly_port)], cwd=HERE,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
daemon = subprocess.Popen(
    [os.path.join(bin_dir, "availd"), "serve", "--port", str(port), "--database", f"{folder}/bench.sqlite",
     "--admin-token", "bench-admin", "--signing-key", "bench-key", "--calendly-api", f"http://127.0.0.1:{calendly_port}",
     "--calendly-token", "calendly-token-admin", "--calendly-window-days", "7"],
    cwd=HERE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
try:
    while "listening on" not in daemon.stdout.readline():
        pass
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", calendly_port)).close()
            break
        except OSError:
            time.sleep(0.05)
    connection = http.client.HTTPConnection("127.0.0.1", port)

    def call(method, path, body=None):
        headers = {"Content-Type": "application/json", "Authorization": "Bearer bench-admin"}
        connection.request(method, path, body=json.dumps(body) if body else None, headers=headers)
        answer = connection.getresponse()
        answer.read()
        return answer.status

    call("PUT", "/experts/grace", {"name": "Grace Hopper", "email": "grace.hopper@experts.example", "timezone": "America/New_York"})
    assert call("PUT", "/experts/grace/integration", {"type": "calendly", "event_link": "https://calendly.com/grace-hopper/60min"}) == 200

    def rss_kib():
        with open(f"/proc/{daemon.pid}/status") as status:
            return int(next(line for line in status if line.startswith("VmRSS")).split()[1])

    base = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
    stamp = lambda t: t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def ask(offset):
        start = base + datetime.timedelta(microseconds=offset)
        return call("GET", f"/experts/grace/availability?start_time={stamp(start)}&end_time={stamp(start + datetime.timedelta(days=7))}")

    for offset in range(100):
        ask(offset)
    before = rss_kib()
    statuses = {}
    for offset in range(100, 100 + requests):
        status = ask(offset)
        statuses[status] = statuses.get(status, 0) + 1
    after = rss_kib()
    upstream = http.client.HTTPConnection("127.0.0.1", calendly_port)
    upstream.request("GET", "/_sim/requests?path=/event_type_available_times")
    calls = upstream.getresponse().read().decode()
    print(f"{bin_dir}: answers {statuses}; RSS {before} KiB after 100 ranges, {after} KiB after {requests} more "
          f"({after - before:+} KiB); calls to Calendly's available times: {calls}")
finally:
    daemon.terminate()
    sim.terminate()
    daemon.wait()
    sim.wait()
