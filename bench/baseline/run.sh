#!/usr/bin/env bash
# The baseline for bench/ingest-wrk.sh: bench/baseline/app.py (FastAPI) under uvicorn with two
# worker processes, on 127.0.0.1:PORT, storing into DBFILE (created with its schema if new).
#
#     bench/baseline/run.sh PORT DBFILE
#
# Installs the pinned packages (bench/baseline/requirements.txt) from PyPI into
# .build-baseline/venv first when they are missing (bench/venv.sh). Runs in the foreground:
# the process is uvicorn's supervisor (exec), its two workers are its children; SIGTERM stops
# them all. BASELINE_SIGNING_KEY (default bench-signing-key) is the key deliveries are signed
# with; BASELINE_WORKERS (default 2) the number of workers.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ $# -ne 2 ]; then
    echo "usage: bench/baseline/run.sh PORT DBFILE" >&2
    exit 2
fi
port="$1"
db="$(realpath -m "$2")"

bench/venv.sh bench/baseline/requirements.txt
python=.build-baseline/venv/bin/python

export BASELINE_DB="$db"
export BASELINE_SIGNING_KEY="${BASELINE_SIGNING_KEY:-bench-signing-key}"
(cd bench/baseline && BASELINE_DB="$db" "../../$python" app.py --init)
echo "baseline (FastAPI + uvicorn, ${BASELINE_WORKERS:-2} workers) on http://127.0.0.1:$port, database $db" >&2
exec "$python" -m uvicorn app:app --app-dir bench/baseline --host 127.0.0.1 --port "$port" \
    --workers "${BASELINE_WORKERS:-2}" --loop uvloop --http httptools --no-access-log --log-level warning
