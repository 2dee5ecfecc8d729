#!/usr/bin/env bash
# The settings page in headless Chromium (Tests/browser): Selenium from PyPI in a venv under
# .build-browser, Debian's chromium and chromium-driver (scripts/dependencies.sh installs them).
# Screenshots of each step go to .build/screenshots.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.build-browser/venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -c "import selenium" 2>/dev/null || "$venv/bin/pip" install -q "selenium>=4.20,<5"

export AVAILD_BIN_DIR="${AVAILD_BIN_DIR:-$(swift build --show-bin-path)}"
export SCREENSHOTS="${SCREENSHOTS:-.build/screenshots}"
"$venv/bin/python" Tests/browser/settings_page_test.py
echo "screenshots: $SCREENSHOTS"
