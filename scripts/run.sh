#!/usr/bin/env bash
# `make run`: build availd, load the demo deliveries into ./var, and serve them.
set -euo pipefail
cd "$(dirname "$0")/.."

database="${AVAILD_DATABASE:-./var/availd.sqlite}"
mkdir -p "$(dirname "$database")"
bin="$(swift build --show-bin-path)"

echo "== loading the demo deliveries from fixtures/deliveries into $database"
"$bin/availd" replay fixtures/deliveries --database "$database"

cat <<TEXT
== starting availd; the signing key and admin token below are kept beside the database.
   Send it a signed delivery from another terminal:
     $bin/availd replay fixtures/deliveries/01-bookings --to http://127.0.0.1:\${AVAILD_PORT:-8080} --signing-key KEY
   Read the log:
     curl -H "Authorization: Bearer TOKEN" http://127.0.0.1:\${AVAILD_PORT:-8080}/events
TEXT
exec "$bin/availd" serve --database "$database"
