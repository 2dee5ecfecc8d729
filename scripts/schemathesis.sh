#!/usr/bin/env bash
# `make test`, last step: schemathesis (pinned, from PyPI, in a venv under .build-schemathesis/)
# against a live `availd serve` built from this tree, described by openapi.yaml. Every
# operation, every phase (examples, coverage, fuzzing, stateful through the document's links)
# and every check but positive_data_acceptance: no 5xx, status codes, content types, headers
# and bodies as documented, invalid input refused, auth not ignored, 405 with Allow. Runs once
# with the admin token and once, shorter, with an expert token; a hook signs webhook bodies.
# Fails on any failure; ends with "schemathesis: N passed, F failed".
#
# Seeds the daemon first so the operations have something to find: deliveries in the log, a
# parked one, dead letters, experts `ada` and `alan` on native schedules and `grace` connected
# to Calendly through the Calendly stand-in, a native booking of ada's and a Calendly one of
# grace's.
#
# SCHEMATHESIS_MAX_EXAMPLES (default 200 per operation; the expert run takes a quarter) and
# SCHEMATHESIS_SEED (default 20261) tune the run; SCHEMATHESIS_KEEP=1 keeps the database and
# the logs; SCHEMATHESIS_ARGS adds `st run` options.
set -euo pipefail
cd "$(dirname "$0")/.."

version=4.32.5
venv=.build-schemathesis/venv
max_examples="${SCHEMATHESIS_MAX_EXAMPLES:-200}"
seed="${SCHEMATHESIS_SEED:-20261}"

if ! "$venv/bin/st" --version 2>/dev/null | grep -qF "$version"; then
    echo "== installing schemathesis $version into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version"
fi
"$venv/bin/python" scripts/check-openapi.py Sources/AvailServer/Resources/openapi.yaml

bin="$(swift build --show-bin-path)"
for executable in availd availd-sim; do
    [ -x "$bin/$executable" ] || { echo "$bin/$executable is missing: run swift build first" >&2; exit 1; }
done

work="$(mktemp -d "${TMPDIR:-/tmp}/availd-schemathesis.XXXXXX")"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [ -n "${SCHEMATHESIS_KEEP:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# Waits for "... listening on http://HOST:PORT" in $1 and prints the URL.
listening() {
    for _ in $(seq 300); do
        if url="$(grep -o 'listening on http://[0-9.:]*' "$1" 2>/dev/null)"; then
            echo "${url#listening on }"
            return 0
        fi
        sleep 0.1
    done
    echo "no 'listening on' in $1:" >&2
    cat "$1" "$1.err" >&2 2>/dev/null || true
    return 1
}

# Schemathesis tests availd, not Calendly's per-user rate limits (its thousands of cases would hit them).
"$bin/availd-sim" calendly --port 0 --state fixtures/calendly-api/state.json --rate-limit 1000000 --invitees-limit 1000000 > "$work/calendly.out" 2> "$work/calendly.out.err" &
pids+=($!)
calendly="$(listening "$work/calendly.out")"

admin_token="schemathesis-admin-$RANDOM$RANDOM"
signing_key="schemathesis-signing-$RANDOM$RANDOM"
"$bin/availd" serve --database "$work/availd.sqlite" --port 0 --admin-token "$admin_token" \
    --signing-key "$signing_key" --calendly-api "$calendly" --calendly-token calendly-token-admin \
    --calendly-window-days 7 > "$work/availd.out" 2> "$work/availd.out.err" &
pids+=($!)
url="$(listening "$work/availd.out")"
echo "== availd on $url, Calendly stand-in on $calendly"

# Deliveries availd keeps but projects no appointment from (the fixtures' appointments name
# Calendly events the stand-in never booked: moving one could not cancel it there), one it parks
# (an invitee without a `uri`), and the invalid fixtures, which become dead letters. Calendly
# appointments come from bookings through the stand-in, which sends their webhooks back.
echo '{"event":"invitee.created","created_at":"2026-01-05T09:00:00.000000Z","created_by":"https://api.calendly.com/users/x","payload":{"email":"nobody@example.com","name":"No URI"}}' > "$work/parked.json"
"$bin/availd" replay fixtures/deliveries/06-other-events fixtures/deliveries/07-unknown-event "$work/parked.json" \
    --to "$url" --signing-key "$signing_key"
"$bin/availd" replay fixtures/invalid --to "$url" --signing-key "$signing_key" > /dev/null 2>&1 || true
curl -sS -f -X POST "$calendly/_sim/webhooks" -H "Content-Type: application/json" \
    -d "{\"url\": \"$url\", \"signing_key\": \"$signing_key\"}"

admin() {
    local method="$1" path="$2" body="${3:-}"
    curl -sS -f -X "$method" "$url$path" -H "Authorization: Bearer $admin_token" \
        -H "Content-Type: application/json" ${body:+-d "$body"}
}
schedule='{"timezone": "Europe/London", "duration_minutes": 30, "rules": [
    {"type": "wday", "wday": "monday", "intervals": [{"from": "09:00", "to": "12:00"}, {"from": "13:00", "to": "17:00"}]},
    {"type": "wday", "wday": "tuesday", "intervals": [{"from": "09:00", "to": "17:00"}]},
    {"type": "wday", "wday": "wednesday", "intervals": [{"from": "09:00", "to": "17:00"}]},
    {"type": "wday", "wday": "thursday", "intervals": [{"from": "09:00", "to": "17:00"}]},
    {"type": "wday", "wday": "friday", "intervals": [{"from": "09:00", "to": "15:00"}]},
    {"type": "date", "date": "2030-12-24", "intervals": []}]}'
admin PUT /experts/ada '{"name": "Ada Lovelace", "email": "ada.lovelace@experts.example", "timezone": "Europe/London"}' > /dev/null
admin PUT /experts/ada/integration "{\"type\": \"native\", \"schedule\": $schedule}" > /dev/null
admin PUT /experts/alan '{"name": "Alan Turing", "email": "alan.turing@experts.example", "timezone": "Europe/Berlin"}' > /dev/null
admin PUT /experts/alan/integration "{\"type\": \"native\", \"schedule\": $schedule}" > /dev/null
admin PUT /experts/grace '{"name": "Grace Hopper", "email": "grace.hopper@experts.example", "timezone": "America/New_York"}' > /dev/null
admin PUT /experts/grace/integration '{"type": "calendly", "event_link": "https://calendly.com/grace-hopper/60min"}' > /dev/null
slot="$(curl -sS -f "$url/experts/ada/availability?start_time=2030-01-07T00:00:00Z&end_time=2030-01-14T00:00:00Z" |
    "$venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["slots"][1]["start_time"])')"
appointment="$(admin POST /experts/ada/appointments \
    "{\"start_time\": \"$slot\", \"invitee\": {\"name\": \"Charles Babbage\", \"email\": \"charles@example.com\"}}" |
    "$venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["id"])')"
calendly_slot="$(curl -sS -f "$url/experts/grace/availability?start_time=$(date -u -d '+2 days' +%Y-%m-%dT00:00:00Z)&end_time=$(date -u -d '+9 days' +%Y-%m-%dT00:00:00Z)" |
    "$venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["slots"][0]["start_time"])')"
calendly_appointment="$(admin POST /experts/grace/appointments \
    "{\"start_time\": \"$calendly_slot\", \"invitee\": {\"name\": \"Kofi Mensah\", \"email\": \"kofi@example.com\"}}" |
    "$venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["id"])')"

# Seeded values schemathesis mixes into what it generates, so cases reach real resources.
cat > "$work/schemathesis.toml" <<TOML
hooks = "$PWD/scripts/schemathesis_hooks.py"

# The run's token, as a bearer token and as the settings page's session cookie.
[auth.openapi.bearer]
bearer = "\${AVAILD_TOKEN}"
[auth.openapi.session]
api_key = "\${AVAILD_TOKEN}"

[dictionaries.experts]
values = ["ada", "grace", "alan", "nobody"]
[dictionaries.appointments]
values = ["$appointment", "$calendly_appointment"]
[dictionaries.zones]
values = ["Europe/London", "America/New_York", "UTC", "Asia/Kolkata", "Australia/Lord_Howe"]

# 413 (a body over 64 KiB) is as much a refusal of invalid input as a 400.
[checks.negative_data_rejection]
expected-statuses = [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]

[parameters]
"body.timezone" = { dictionary = "zones", probability = 0.5 }
"body.invitee.timezone" = { dictionary = "zones", probability = 0.5 }
"body.schedule.timezone" = { dictionary = "zones", probability = 0.5 }
# A position the read models have reached: larger ones make every such case wait 5 s for a 504.
"query.min_position" = 1

[[operations]]
include-path-regex = "^/experts/"
parameters = { "path.id" = { dictionary = "experts", probability = 0.6 } }

[[operations]]
include-path-regex = "^/appointments/"
parameters = { "path.id" = { dictionary = "appointments", probability = 0.6 } }
TOML

# One run: the document against the daemon with the token $2 (bearer, or the settings page's
# cookie), at most $3 examples per operation; $1 names it, further arguments go to `st run`.
# The page's event stream is left out: signed in, it never ends. Prints the run's tally.
run() {
    local name="$1" token="$2" examples="$3"
    shift 3
    echo "== schemathesis $version, $name: seed $seed, at most $examples examples per operation"
    local started=$SECONDS code
    set +e
    # One worker: two race in CPython 3.11's ast module (hypothesis parses lambdas).
    AVAILD_TOKEN="$token" AVAILD_SIGNING_KEY="$signing_key" "$venv/bin/st" --config-file "$work/schemathesis.toml" run Sources/AvailServer/Resources/openapi.yaml \
        --url "$url" \
        --checks all \
        --exclude-checks positive_data_acceptance \
        --phases examples,coverage,fuzzing,stateful \
        --exclude-operation-id settingsStream \
        --max-examples "$examples" \
        --seed "$seed" \
        --generation-database none \
        --workers 1 \
        --request-timeout 20 \
        --output-truncate true \
        --no-color \
        "$@" ${SCHEMATHESIS_ARGS:-} 2>&1 | tee "$work/schemathesis-$name.log"
    code=${PIPESTATUS[0]}
    set -e
    # "Test cases:" is followed by "N generated, N passed" (or "…, F found U unique failures").
    local tally
    tally="$(grep -A1 '^Test cases:' "$work/schemathesis-$name.log" | tail -1 | sed 's/^ *//')"
    echo "schemathesis $name: ${tally:-no cases}, in $((SECONDS - started)) s"
    summary+=("schemathesis $name: ${tally:-no cases}, in $((SECONDS - started)) s")
    return "$code"
}

summary=()
status=0
run admin "$admin_token" "$max_examples" || status=1
# As the expert `ada`: its own resources answer, another expert's are 404, the admin's 403.
# Revoking is left out: the run would revoke the very token it sends.
expert_token="$(admin POST /experts/ada/tokens '{"label": "schemathesis"}' |
    "$venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["token"])')"
run expert "$expert_token" "$((max_examples / 4 + 1))" --exclude-operation-id revokeExpertToken || status=1

printf '%s\n' "${summary[@]}"
if grep -q "internal_error\|request failed" "$work/availd.out.err"; then
    echo "availd logged errors:" >&2
    grep "internal_error\|request failed" "$work/availd.out.err" | head -20 >&2
    status=1
fi
# The plain closing line: cases passed, and failures found (unique ones, as schemathesis counts).
printf '%s\n' "${summary[@]}" | "$venv/bin/python" -c '
import re, sys
text = sys.stdin.read()
passed = sum(int(n) for n in re.findall(r"(\d+) passed", text))
failed = sum(int(n) for n in re.findall(r"(\d+) unique failures?", text))
print(f"schemathesis: {passed} passed, {failed if failed or not int(sys.argv[1]) else 1} failed")
' "$status"
exit "$status"
