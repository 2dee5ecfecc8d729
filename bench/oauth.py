#!/usr/bin/env python3
"""Connecting a Calendly account by OAuth, and what token refreshes cost a request.

    bench/oauth.py [BIN_DIR] [FLOWS] [REQUESTS]

Starts the Calendly stand-in (with an OAuth app for availd) and `BIN_DIR/availd serve`
(default: `swift build --show-bin-path`) on free loopback ports, then:

1. FLOWS (default 100) whole OAuth flows for one expert, played as a browser would (authorize,
   approve on the stand-in's page, callback); the figure is the callback's own time: code
   exchange, `GET /users/me`, tokens sealed and stored, the event logged and projected.
2. REQUESTS (default 2000) availability requests one after another with the cache off
   (`--calendly-cache-ttl 0`, so every request asks Calendly with the expert's token), first
   with tokens that live 2 hours (no refresh), then with tokens that live 30 s under the
   default 300 s refresh margin (every request finds its token due, so refreshes run in the
   background the whole time). The figure is p99 with refreshes over p99 without.

Python standard library only. Prints a Markdown table.
"""
import http.client
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
bin_dir = sys.argv[1] if len(sys.argv) > 1 else subprocess.check_output(
    ["swift", "build", "--show-bin-path"], cwd=HERE, text=True).strip()
flows = int(sys.argv[2]) if len(sys.argv) > 2 else 100
requests = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
CLIENT_ID, CLIENT_SECRET = "bench-app", "bench-app-secret"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


port, calendly_port = free_port(), free_port()
base, calendly = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{calendly_port}"
folder = tempfile.mkdtemp()
sim = subprocess.Popen(
    [os.path.join(bin_dir, "availd-sim"), "calendly", "--port", str(calendly_port), "--client-id", CLIENT_ID,
     "--client-secret", CLIENT_SECRET, "--redirect-uri", f"{base}/oauth/calendly/callback",
     # What is measured is availd, not Calendly's per-user limits (8 token requests, 500 calls a minute).
     "--token-limit", "100000", "--rate-limit", "1000000"],
    cwd=HERE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
daemon = subprocess.Popen(
    [os.path.join(bin_dir, "availd"), "serve", "--port", str(port), "--database", f"{folder}/bench.sqlite",
     "--admin-token", "bench-admin", "--signing-key", "bench-key", "--calendly-api", calendly, "--calendly-auth", calendly,
     "--calendly-client-id", CLIENT_ID, "--calendly-client-secret", CLIENT_SECRET, "--calendly-cache-ttl", "0",
     "--calendly-window-days", "7"],
    cwd=HERE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


class Client:
    """One keep-alive connection per origin; cookies for availd's origin, as a browser keeps them."""

    def __init__(self):
        self.connections = {}
        self.cookies = {}

    def send(self, method, url, body=None, headers=None):
        parts = urllib.parse.urlsplit(url)
        key = parts.netloc
        if key not in self.connections:
            self.connections[key] = http.client.HTTPConnection(parts.hostname, parts.port)
        headers = dict(headers or {})
        if self.cookies.get(key):
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies[key].items())
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        self.connections[key].request(method, path, body=body, headers=headers)
        answer = self.connections[key].getresponse()
        data = answer.read()
        for header, value in answer.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies.setdefault(key, {})[name] = rest.split(";")[0]
        return answer.status, dict(answer.getheaders()), data


try:
    while "listening on" not in daemon.stdout.readline():
        pass
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", calendly_port)).close()
            break
        except OSError:
            time.sleep(0.05)
    client = Client()
    admin = {"Authorization": "Bearer bench-admin", "Content-Type": "application/json"}

    def api(method, path, body=None, headers=admin):
        status, _, data = client.send(method, base + path, json.dumps(body) if body is not None else None, headers)
        return status, (json.loads(data) if data else None)

    assert api("PUT", "/experts/ada", {"name": "Ada", "email": "ada.lovelace@experts.example", "timezone": "Europe/London"})[0] == 200
    _, issued = api("POST", "/experts/ada/tokens", {"label": "bench"})
    ada = {"Authorization": f"Bearer {issued['token']}"}

    def flow():
        status, headers, _ = client.send("GET", f"{base}/experts/ada/calendly/authorize", headers=ada)
        assert status == 302, status
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(headers["Location"]).query))
        form = urllib.parse.urlencode({**query, "user": "ada-lovelace", "decision": "approve"})
        status, headers, _ = client.send("POST", f"{calendly}/oauth/authorize", form,
                                         {"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 302, status
        started = time.perf_counter()
        status, _, body = client.send("GET", headers["Location"])
        elapsed = time.perf_counter() - started
        assert status == 302, (status, body)
        return elapsed

    callbacks = [flow() for _ in range(flows)]
    assert api("PUT", "/experts/ada/integration",
               {"type": "calendly", "event_types": ["https://api.calendly.com/event_types/839a144c-94df-45bf-9708-62a6c496b3a5"]})[0] == 200

    tomorrow = datetime.now(timezone.utc) + timedelta(days=1)
    window = (f"start_time={tomorrow.strftime('%Y-%m-%dT00:00:00Z')}"
              f"&end_time={(tomorrow + timedelta(days=7)).strftime('%Y-%m-%dT00:00:00Z')}")

    def availability(count):
        times = []
        for _ in range(count):
            started = time.perf_counter()
            status, _, _ = client.send("GET", f"{base}/experts/ada/availability?{window}")
            times.append(time.perf_counter() - started)
            assert status == 200, status
        return times

    def grants():
        _, _, data = client.send("GET", f"{calendly}/_sim/oauth/grants")
        return json.loads(data)

    availability(100)  # warm up
    quiet = availability(requests)
    before = grants()

    # Tokens that live 30 s: a new connection gets one, and every request then finds it due.
    status, _, _ = client.send("POST", f"{calendly}/_sim/oauth/settings", json.dumps({"access_token_lifetime": 30}),
                               {"Content-Type": "application/json"})
    assert status == 204, status
    flow()
    refreshing = availability(requests)
    after = grants()
    refreshes = after.get("refresh_token", 0) - before.get("refresh_token", 0)
    assert after.get("invalid_grant", 0) == before.get("invalid_grant", 0), "a refresh was refused"
    calendly_state = api("GET", "/experts/ada")[1]["calendly"]["status"]

    ms = lambda seconds: f"{seconds * 1000:.2f} ms"
    print(f"bench/oauth.py, {datetime.now(timezone.utc):%Y-%m-%d}, {platform.machine()}, {os.cpu_count()} cores, "
          f"binaries from {bin_dir}")
    print()
    print("| what | p50 | p99 | n |")
    print("| --- | --- | --- | --- |")
    print(f"| callback to connected | {ms(statistics.median(callbacks))} | {ms(percentile(callbacks, 99))} | {flows} flows |")
    print(f"| availability, no refresh | {ms(statistics.median(quiet))} | {ms(percentile(quiet, 99))} | {requests} |")
    print(f"| availability during refreshes | {ms(statistics.median(refreshing))} | {ms(percentile(refreshing, 99))} "
          f"| {requests}, {refreshes} refreshes |")
    print()
    print(f"p99 with refreshes / p99 without: **{percentile(refreshing, 99) / percentile(quiet, 99):.2f}**; "
          f"p50: {statistics.median(refreshing) / statistics.median(quiet):.2f}; connection afterwards: {calendly_state}")
finally:
    daemon.terminate()
    sim.terminate()
    daemon.wait(timeout=30)
    sim.wait(timeout=30)
