#!/usr/bin/env bash
# `make run`: build availd, load the demo deliveries into ./var, start the Calendly stand-in
# beside availd, create the three fixture experts connected to their Calendly event types,
# and serve. Everything stays on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
# Owner-only, like every file availd writes: ./var and the daemon's output (which holds the
# secrets it prints on a first run).
umask 077

database="${AVAILD_DATABASE:-./var/availd.sqlite}"
port="${AVAILD_PORT:-8080}"
calendly_port="${CALENDLY_STAND_IN_PORT:-8081}"
mkdir -p "$(dirname "$database")"
bin="$(swift build --show-bin-path)"
url="http://127.0.0.1:$port"
calendly="http://127.0.0.1:$calendly_port"
output="$(dirname "$database")/availd.out"

echo "== loading the demo deliveries from fixtures/deliveries into $database"
"$bin/availd" replay fixtures/deliveries --database "$database"

echo "== starting the Calendly stand-in on $calendly (seed: fixtures/calendly-api/state.json)"
# Its OAuth app (availd-demo) is registered below, once availd has its signing key.
"$bin/availd-sim" calendly --port "$calendly_port" 2>/dev/null &
stand_in=$!
daemon=""
trap 'kill $stand_in ${daemon:+$daemon} 2>/dev/null || true' EXIT
trap 'exit 0' INT TERM

echo "== starting availd"
"$bin/availd" serve --database "$database" --port "$port" \
    --calendly-api "$calendly" --calendly-token "${AVAILD_CALENDLY_TOKEN:-calendly-token-admin}" \
    --calendly-auth "$calendly" --calendly-client-id availd-demo --calendly-client-secret availd-demo-secret \
    --public-url "$url" --calendly-window-days 7 > "$output" &
daemon=$!
for _ in $(seq 100); do grep -q "listening on" "$output" 2>/dev/null && break; sleep 0.1; done
cat "$output"

key="${AVAILD_SIGNING_KEYS:-$(cat "$database.signing-key")}"
key="${key%%,*}"
token="${AVAILD_ADMIN_TOKEN:-$(cat "$database.admin-token")}"
# The organization's webhook subscription, as an operator makes it once: the stand-in signs its
# deliveries with the key availd already accepts (kept beside the database).
"$bin/availd" calendly subscribe --url "$url/webhooks/calendly" --database "$database" \
    --calendly-api "$calendly" --calendly-token "${AVAILD_CALENDLY_TOKEN:-calendly-token-admin}" | sed 's/^/   /'
# availd as the stand-in's OAuth app: this daemon's callback, and (as Calendly signs an OAuth
# app's deliveries with the app's own webhook signing key) availd's key as that key.
curl -sf -X POST "$calendly/_sim/oauth/apps" -H "Content-Type: application/json" \
    -d "{\"client_id\":\"availd-demo\",\"client_secret\":\"availd-demo-secret\",\"redirect_uris\":[\"$url/oauth/calendly/callback\"],\"webhook_signing_key\":\"$key\"}"
for expert in "ada|Ada Lovelace|ada.lovelace@experts.example|Europe/London|ada-lovelace/30min" \
              "grace|Grace Hopper|grace.hopper@experts.example|America/New_York|grace-hopper/60min" \
              "alan|Alan Turing|alan.turing@experts.example|Europe/Berlin|alan-turing/45min"; do
    IFS='|' read -r id name email zone link <<< "$expert"
    curl -sf -X PUT "$url/experts/$id" -H "Authorization: Bearer $token" -H "Content-Type: application/json" \
        -d "{\"name\":\"$name\",\"email\":\"$email\",\"timezone\":\"$zone\"}" > /dev/null
    curl -sf -X PUT "$url/experts/$id/integration" -H "Authorization: Bearer $token" -H "Content-Type: application/json" \
        -d "{\"type\":\"calendly\",\"event_link\":\"https://calendly.com/$link\"}" > /dev/null
done

# Katherine is outside the marketplace's Calendly organization: she connects her own account.
curl -sf -X PUT "$url/experts/katherine" -H "Authorization: Bearer $token" -H "Content-Type: application/json" \
    -d '{"name":"Katherine Johnson","email":"katherine.johnson@orbits.example","timezone":"America/New_York"}' > /dev/null

# Expert tokens: each reaches its own expert and that expert's appointments only.
ada_token="$("$bin/availd" token issue --expert ada --label "make run" --database "$database" | sed -n 's/^token //p')"
katherine_token="$("$bin/availd" token issue --expert katherine --label "make run" --database "$database" | sed -n 's/^token //p')"

cat <<TEXT
== ready: experts ada, grace and alan are connected to their Calendly event types.
   Ada's page:          $url/experts/ada/availability-settings   (sign in with her token)
   Ada's expert token:  $ada_token
   Her appointments:    curl -H "Authorization: Bearer $ada_token" $url/experts/ada/appointments
   Anyone's (admin):    curl -H "Authorization: Bearer $token" $url/experts/grace/appointments
   Free slots:          curl "$url/experts/grace/availability?start_time=$(date -u -d '+1 day' +%Y-%m-%dT00:00:00Z)&end_time=$(date -u -d '+8 days' +%Y-%m-%dT00:00:00Z)"
   Book one:            curl -X POST -H "Authorization: Bearer $token" -H "Content-Type: application/json" \\
                          $url/experts/grace/appointments -d '{"start_time":"<a slot>","invitee":{"name":"You","email":"you@example.com"}}'
   Connect an expert's own Calendly account (OAuth 2 with PKCE, through the stand-in):
     1. open $url/experts/katherine/availability-settings and sign in with
        $katherine_token
     2. press "Connect with Calendly"; on the stand-in's page choose katherine-johnson and Approve
     3. back on the settings page, tick her event types and press "Offer these"
   Webhook subscriptions, as Calendly reports them:
                        $bin/availd calendly subscriptions --database $database --calendly-api $calendly --calendly-token calendly-token-admin --calendly-auth $calendly --calendly-client-id availd-demo --calendly-client-secret availd-demo-secret
   Compare with Calendly now (availd also does it every hour):
                        $bin/availd calendly reconcile --database $database --calendly-api $calendly --calendly-token calendly-token-admin --calendly-auth $calendly --calendly-client-id availd-demo --calendly-client-secret availd-demo-secret
   Send Calendly deliveries yourself:
                        $bin/availd replay fixtures/deliveries/01-bookings --to $url --signing-key $key
   Stop with Ctrl-C.
TEXT
tail -n 0 -f "$output" &
follower=$!
trap 'kill $stand_in $daemon $follower 2>/dev/null || true' EXIT
wait "$daemon"
