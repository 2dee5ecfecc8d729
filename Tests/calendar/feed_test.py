"""The calendar feed read by a real iCalendar parser: Python's `icalendar` (PyPI).

Starts the real `availd serve` (binaries from AVAILD_BIN_DIR), makes a native expert with a
booking, a reschedule and a cancellation over HTTP, fetches the feed and checks what
`icalendar.Calendar.from_ical` makes of it. scripts/calendar-feed-test.sh runs it in a venv.
"""
import json
import os
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import icalendar

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ["AVAILD_BIN_DIR"])
ADMIN = "calendar-admin-token"
SCHEDULE = {"timezone": "UTC", "duration_minutes": 60,
            "rules": [{"type": "wday", "wday": "monday", "intervals": [{"from": "09:00", "to": "12:00"}]}]}


def call(method, url, body=None, headers=None):
    """`method url` as admin; (status, headers, body bytes), errors included."""
    request = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Authorization", f"Bearer {ADMIN}")
    if body is not None:
        request.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def fetch(url, headers=None):
    """A calendar app's GET: no bearer token."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


class CalendarFeedTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.folder = tempfile.TemporaryDirectory()
        cls.daemon = subprocess.Popen(
            [str(BIN / "availd"), "serve", "--port", "0", "--database", f"{cls.folder.name}/availd.sqlite",
             "--signing-key", "calendar-signing-key", "--admin-token", ADMIN],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
        deadline = time.time() + 60
        cls.base = None
        while time.time() < deadline and cls.base is None:
            line = cls.daemon.stdout.readline()
            if line.startswith("availd listening on "):
                cls.base = line[len("availd listening on "):].strip()
            elif cls.daemon.poll() is not None:
                break
        if cls.base is None:
            cls.daemon.kill()
            raise RuntimeError("availd did not start")

    @classmethod
    def tearDownClass(cls):
        cls.daemon.terminate()
        cls.daemon.wait(timeout=30)
        cls.folder.cleanup()

    def test_a_real_parser_reads_the_feed(self):
        status, _, _ = call("PUT", f"{self.base}/experts/ada",
                            {"name": "Ada, Lovelace; Ω", "email": "ada@experts.example", "timezone": "Europe/London"})
        self.assertEqual(status, 200)
        status, _, _ = call("PUT", f"{self.base}/experts/ada/integration", {"type": "native", "schedule": SCHEDULE})
        self.assertEqual(status, 200)
        monday = date.today() + timedelta(days=1)
        while monday.weekday() != 0:
            monday += timedelta(days=1)

        def at(hour):
            return datetime(monday.year, monday.month, monday.day, hour, tzinfo=timezone.utc)

        long_name = "Zoë \\ Nakamura; \"李\", " + "🎉李" * 20
        status, _, body = call("POST", f"{self.base}/experts/ada/appointments", {
            "start_time": at(9).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "invitee": {"name": long_name, "email": "z@example.com", "timezone": "UTC"}})
        self.assertEqual(status, 201, body)
        first = json.loads(body)["id"]
        status, _, body = call("PATCH", f"{self.base}/appointments/{first}", {"start_time": at(11).strftime("%Y-%m-%dT%H:%M:%SZ")})
        self.assertEqual(status, 200, body)
        second = json.loads(body)["id"]
        status, _, body = call("POST", f"{self.base}/experts/ada/appointments", {
            "start_time": at(10).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "invitee": {"name": "Kept, then canceled", "email": "k@example.com", "timezone": "UTC"}})
        self.assertEqual(status, 201, body)
        canceled = json.loads(body)["id"]
        status, _, body = call("POST", f"{self.base}/appointments/{canceled}/cancel", {"reason": "Unwell"})
        self.assertEqual(status, 200, body)

        status, _, body = call("POST", f"{self.base}/experts/ada/calendar-feeds")
        self.assertEqual(status, 201, body)
        url = json.loads(body)["url"]
        status, headers, ics = fetch(url)
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "text/calendar; charset=utf-8")
        for line in ics.split(b"\r\n")[:-1]:
            self.assertLessEqual(len(line), 75)
            line.decode("utf-8")  # every folded piece is whole UTF-8
        self.assertTrue(ics.endswith(b"END:VCALENDAR\r\n"))

        calendar = icalendar.Calendar.from_ical(ics)
        self.assertEqual(str(calendar["VERSION"]), "2.0")
        self.assertEqual(str(calendar["METHOD"]), "PUBLISH")
        # icalendar leaves an X- property's value as written; it is TEXT, escaped.
        self.assertEqual(str(calendar["X-WR-CALNAME"]), "Ada\\, Lovelace\\; Ω (availd)")
        self.assertTrue(str(calendar["PRODID"]))
        events = {str(event["UID"]): event for event in calendar.walk("VEVENT")}
        self.assertEqual(set(events), {f"{first}@availd", f"{canceled}@availd"})

        moved = events[f"{first}@availd"]
        self.assertEqual(int(moved["SEQUENCE"]), 1)
        self.assertEqual(str(moved["STATUS"]), "CONFIRMED")
        self.assertEqual(str(moved["SUMMARY"]), long_name)
        self.assertEqual(moved.decoded("DTSTART"), at(11))
        self.assertEqual(moved.decoded("DTEND"), at(12))
        self.assertEqual(moved.decoded("DTSTART").utcoffset(), timedelta(0))
        self.assertIsInstance(moved.decoded("DTSTAMP"), datetime)
        self.assertIsInstance(moved.decoded("LAST-MODIFIED"), datetime)
        self.assertNotIn(second, ics.decode())

        gone = events[f"{canceled}@availd"]
        self.assertEqual(str(gone["STATUS"]), "CANCELLED")
        self.assertEqual(gone.decoded("DTSTART"), at(10))

        status, again, _ = fetch(url, {"If-None-Match": headers["ETag"]})
        self.assertEqual(status, 304)
        self.assertEqual(again["ETag"], headers["ETag"])

        feed_id = json.loads(call("GET", f"{self.base}/experts/ada/calendar-feeds")[2])["feeds"][0]["id"]
        self.assertEqual(call("DELETE", f"{self.base}/experts/ada/calendar-feeds/{feed_id}")[0], 204)
        status, _, body = fetch(url)
        self.assertEqual(status, 404)
        self.assertEqual(json.loads(body)["code"], "not_found")


if __name__ == "__main__":
    unittest.main(verbosity=2)
