#!/usr/bin/env bash
# Makes sure the benchmark's Python virtualenv exists and holds the pinned packages of each
# requirements file given (from PyPI):
#
#     bench/venv.sh bench/baseline/requirements.txt bench/requirements-plot.txt
#
# The venv is .build-baseline/venv in the repository root (ignored by git, like every .build-*).
# A requirements file is installed again only when it changed (a stamp per file keeps its hash).
# Needs `python3 -m venv`: installs python3-venv with apt-get when it is missing and this runs as
# root on Debian, otherwise says what to install.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh

venv=.build-baseline/venv

if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    install_or_explain "the benchmark needs Python's venv module; install it with:" python3-venv
fi

if [ ! -x "$venv/bin/python" ]; then
    echo "== creating $venv" >&2
    python3 -m venv "$venv"
fi

for requirements in "$@"; do
    stamp="$venv/.installed-$(basename "$(dirname "$requirements")")-$(basename "$requirements")"
    hash="$(sha256sum "$requirements" | cut -d' ' -f1)"
    if [ "$(cat "$stamp" 2>/dev/null)" != "$hash" ]; then
        echo "== installing $requirements into $venv" >&2
        "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >&2
        echo "$hash" > "$stamp"
    fi
done
