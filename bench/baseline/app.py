"""The baseline: what a typical team writes instead of availd's ingest.

A FastAPI app (run under uvicorn with two worker processes, bench/baseline/run.sh) that
  1. reads the raw body and checks `Calendly-Webhook-Signature: t=<unix seconds>,v1=<hex>`, the
     HMAC-SHA256 of "<t>." + body keyed with the signing key's UTF-8 bytes (every v1 compared in
     constant time; t within BASELINE_TOLERANCE seconds, 180 by default, as availd);
  2. parses the JSON and takes the dedupe key availd uses: event + payload.uri + created_at;
  3. does one durable SQLite insert per delivery: its own transaction, WAL, synchronous=FULL
     (an fsync per commit), `INSERT ... ON CONFLICT DO NOTHING` on a UNIQUE key;
  4. answers 202 {"position", "duplicate": false} for a new delivery, 200 {"position",
     "duplicate": true} for one seen before, 401 for a bad signature, 400 for a bad body.

It does what such services usually do: one sqlite3 connection per worker process and the insert
called straight from the `async def` handler (so a worker's event loop waits for its commit;
with two workers, at most two commits are in flight, and they take turns at SQLite's write lock).
No group commit, no batching: one fsync per acknowledged delivery.

Configuration, from the environment (run.sh sets them): BASELINE_DB (the database file),
BASELINE_SIGNING_KEY (default "bench-signing-key"), BASELINE_TOLERANCE (seconds, default 180).
"""

import hashlib
import hmac
import json
import os
import sqlite3
import time

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

DB_PATH = os.environ.get("BASELINE_DB", "baseline.sqlite")
KEY = os.environ.get("BASELINE_SIGNING_KEY", "bench-signing-key").encode()
TOLERANCE = int(os.environ.get("BASELINE_TOLERANCE", "180"))

SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    position    INTEGER PRIMARY KEY AUTOINCREMENT,
    event       TEXT NOT NULL,
    invitee_uri TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    received_at REAL NOT NULL,
    signature   TEXT NOT NULL,
    body        BLOB NOT NULL,
    UNIQUE (event, invitee_uri, created_at)
);
"""


def connect(path=DB_PATH):
    # isolation_level=None: autocommit; each INSERT below is one transaction, committed (and,
    # with synchronous=FULL in WAL mode, fsynced) before execute() returns.
    db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    return db


def init_db(path=DB_PATH):
    db = connect(path)
    db.executescript(SCHEMA)
    db.close()


app = FastAPI()
_db = None


def database():
    global _db
    if _db is None:
        _db = connect()
    return _db


def problem(status, code, detail):
    return JSONResponse({"status": status, "code": code, "detail": detail}, status_code=status,
                        media_type="application/problem+json")


def signature_failure(header, body):
    """None when `header` signs `body` with KEY at a time within TOLERANCE; else the code."""
    if not header:
        return "missing_signature"
    timestamp, candidates = None, []
    for element in header.split(","):
        name, _, value = element.strip().partition("=")
        if name == "t":
            if timestamp is not None or not value.isdigit():
                return "malformed_signature"
            timestamp = value
        elif name == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        return "malformed_signature"
    expected = hmac.new(KEY, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, candidate.lower()) for candidate in candidates):
        return "invalid_signature"
    if abs(time.time() - int(timestamp)) > TOLERANCE:
        return "stale_signature"
    return None


@app.post("/webhooks/calendly")
async def calendly_webhook(request: Request):
    body = await request.body()
    header = request.headers.get("calendly-webhook-signature")
    failure = signature_failure(header, body)
    if failure:
        return problem(401, failure, "the signature does not verify")
    try:
        delivery = json.loads(body)
        event = delivery["event"]
        payload = delivery["payload"]
        uri = payload.get("uri") or hashlib.sha256(body).hexdigest()
        created_at = delivery.get("created_at") or ""
        if not isinstance(event, str) or not isinstance(uri, str):
            raise ValueError("event and payload.uri must be strings")
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        return problem(400, "invalid_payload", str(error))

    db = database()
    cursor = db.execute(
        "INSERT INTO deliveries (event, invitee_uri, created_at, received_at, signature, body) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (event, uri, created_at, time.time(), header, body),
    )
    if cursor.rowcount == 1:
        return JSONResponse({"position": cursor.lastrowid, "duplicate": False}, status_code=202)
    row = db.execute(
        "SELECT position FROM deliveries WHERE event = ? AND invitee_uri = ? AND created_at = ?",
        (event, uri, created_at),
    ).fetchone()
    return JSONResponse({"position": row[0] if row else None, "duplicate": True}, status_code=200)


@app.get("/healthz")
async def healthz():
    return {"status": "ok"}


if __name__ == "__main__":
    # `python app.py --init`: create the schema before the workers start (run.sh does this).
    import sys

    if sys.argv[1:] == ["--init"]:
        init_db()
