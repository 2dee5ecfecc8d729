#!/usr/bin/env bash
# Installs what building availd needs (with --test: and testing it), when run as root;
# otherwise says exactly what to install. Idempotent: does nothing when everything is there.
set -euo pipefail

packages=(libsqlite3-dev libcurl4-openssl-dev sqlite3 curl python3)
if [ "${1:-}" = "--test" ]; then
    # schemathesis, Selenium and icalendar (the calendar feed's parser) from PyPI in venvs;
    # the settings page in headless Chromium; PostgreSQL's server, which the tests start
    # themselves (initdb into a temporary folder, a loopback port).
    packages+=(python3-venv chromium chromium-driver postgresql)
    # scripts/deploy-check.sh: systemd-analyze and systemd-sysusers (the units), nginx -t and
    # openssl (a self-signed certificate), caddy validate, docker-compose config (no engine).
    # On a host whose systemd starts new services, nginx and caddy start on port 80 once
    # installed: `systemctl disable --now nginx caddy` there.
    packages+=(systemd nginx openssl caddy docker-compose)
fi

missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

if ! command -v swift >/dev/null 2>&1; then
    echo "availd needs Swift 6.1 or later on PATH (https://www.swift.org/install/)." >&2
    exit 1
fi

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
    echo "availd needs these Debian packages; install them with:" >&2
    echo "    sudo apt-get install ${missing[*]}" >&2
    exit 1
fi
