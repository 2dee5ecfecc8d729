#!/usr/bin/env bash
# The calendar feed read by a real parser (Tests/calendar): Python's icalendar from PyPI in a
# venv under .build-calendar, against the real `availd serve`.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.build-calendar/venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -c "import icalendar" 2>/dev/null || "$venv/bin/pip" install -q "icalendar>=6,<8"

export AVAILD_BIN_DIR="${AVAILD_BIN_DIR:-$(swift build --show-bin-path)}"
"$venv/bin/python" Tests/calendar/feed_test.py
