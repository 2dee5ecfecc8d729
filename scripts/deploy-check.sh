#!/usr/bin/env bash
# Checks deploy/ with the tools that read it: systemd-analyze verify on each unit (any word
# about one of ours fails, what it says of the host's own units does not), systemd-analyze
# security on the services against an exposure threshold, systemd-sysusers on the sysusers.d
# entry, the backup unit's shell command run against a temporary state folder, nginx -t on
# the nginx example, caddy validate on the Caddyfile, a compose `config` of compose.yaml, and
# the Containerfile's stages and the names the files share with the daemon (readiness path,
# credentials, AVAILD_* variables). Nothing here reaches the network: the tools run in a
# network namespace of their own when this runs as root.
#
# A missing tool is named and its check skipped; under CI=true that is a failure
# (scripts/dependencies.sh --test installs them all). AVAILD_BIN_DIR: where the built availd
# is (default .build/debug); with it, the units are verified against the real binary.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

# Exposure thresholds, in tenths: systemd-analyze security prints 0.0-10.0 and --threshold
# takes ten times that (2.0 and under is "OK", 0.0-0.9 "SAFE").
max_exposure_daemon=20
max_exposure_backup=10

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

passed=0 failed=0 skipped=0
ok()   { echo "deploy-check: ok: $*"; passed=$((passed + 1)); }
bad()  { echo "deploy-check: FAILED: $*" >&2; failed=$((failed + 1)); }
skip() {
    if [ "${CI:-}" = "true" ]; then
        bad "$* (CI=true: every check must run)"
    else
        echo "deploy-check: SKIPPED: $*" >&2; skipped=$((skipped + 1))
    fi
}
have() { command -v "$1" >/dev/null 2>&1; }
indent() { sed 's/^/    /'; }
# Runs a command with only a loopback interface, when we may make a network namespace.
if unshare --net true 2>/dev/null; then offline=(unshare --net); else offline=(); fi

bin_dir=${AVAILD_BIN_DIR:-.build/debug}
availd_bin=""
if [ -x "$bin_dir/availd" ]; then availd_bin=$(cd "$bin_dir" && pwd)/availd; fi

# ---------------------------------------------------------------------------------------------
# systemd units

units=(availd.service availd-backup.service availd-backup.timer)
mkdir -p "$work/units"
for unit in "${units[@]}"; do cp "deploy/$unit" "$work/units/"; done
# verify checks that ExecStart's program exists: the built binary, else /bin/true.
exec_target=${availd_bin:-/bin/true}
if [ -x /usr/local/bin/availd ]; then exec_target=/usr/local/bin/availd; fi
sed -i "s#^ExecStart=/usr/local/bin/availd#ExecStart=$exec_target#" "$work/units/availd.service"

# verify_unit DIR UNIT: 0 when systemd-analyze verify has nothing to say about UNIT (a file in
# DIR) or the unit it triggers; what it says of the host's own units is shown, not counted.
verify_unit() {
    local dir=$1 unit=$2 output status=0 ours host
    output=$(cd "$dir" && systemd-analyze verify --recursive-errors=no --man=no "./$unit" 2>&1) || status=$?
    ours=$(printf '%s\n' "$output" | grep -E "${unit%.*}\.(service|timer)" || true)
    host=$(printf '%s\n' "$output" | grep -vE "${unit%.*}\.(service|timer)" | grep -v '^$' || true)
    if [ -n "$host" ]; then
        echo "deploy-check: systemd-analyze on the host's units (not $unit), not counted:" >&2
        printf '%s\n' "$host" | indent >&2
    fi
    if [ "$status" -ne 0 ] || [ -n "$ours" ]; then
        printf '%s\n' "${ours:-$output}" | indent >&2
        return 1
    fi
}

if have systemd-analyze; then
    # The check must be able to fail: a copy with an unknown key and one with a bad value.
    mkdir -p "$work/broken"
    cp "$work/units/"* "$work/broken/"
    sed -i 's/^ProtectHome=yes$/ProtectHomee=yes/' "$work/broken/availd.service"
    sed -i 's/^OnCalendar=.*/OnCalendar=every night/' "$work/broken/availd-backup.timer"
    if verify_unit "$work/broken" availd.service 2>/dev/null || verify_unit "$work/broken" availd-backup.timer 2>/dev/null; then
        bad "systemd-analyze verify passed a unit with a typo: this check proves nothing here"
    fi
    for unit in "${units[@]}"; do
        if verify_unit "$work/units" "$unit"; then
            ok "systemd-analyze verify $unit"
        else
            bad "systemd-analyze verify deploy/$unit"
        fi
    done

    # --offline needs systemd 252 or later.
    if systemd-analyze security --help 2>&1 | grep -q -- '--offline'; then
        for pair in "availd.service $max_exposure_daemon" "availd-backup.service $max_exposure_backup"; do
            set -- "${pair% *}" "${pair#* }"
            status=0
            report=$(cd "$work/units" && systemd-analyze security --offline=true --threshold="$2" "./$1" 2>&1) || status=$?
            score=$(printf '%s\n' "$report" | sed -n 's/.*Overall exposure level for [^:]*: //p')
            if [ "$status" -eq 0 ] && [ -n "$score" ]; then
                ok "systemd-analyze security $1: exposure $score (at most $(($2 / 10)).$(($2 % 10)))"
            else
                printf '%s\n' "$report" | grep -E '✗|Overall' | indent >&2
                bad "systemd-analyze security $1: exposure ${score:-unknown}, more than $(($2 / 10)).$(($2 % 10))"
            fi
        done
    else
        skip "systemd-analyze security: this systemd-analyze has no --offline (systemd 252 or later)"
    fi
else
    skip "systemd units: no systemd-analyze (Debian package systemd)"
fi

if have systemd-sysusers; then
    mkdir -p "$work/sysroot"
    status=0
    output=$(systemd-sysusers --dry-run --root="$work/sysroot" "$repo/deploy/availd.sysusers.conf" 2>&1) || status=$?
    if [ "$status" -eq 0 ] && ! printf '%s\n' "$output" | grep -q 'availd.sysusers.conf:'; then
        ok "systemd-sysusers --dry-run availd.sysusers.conf: $(printf '%s\n' "$output" | grep -m1 "Creating user" || echo 'parsed')"
    else
        printf '%s\n' "$output" | indent >&2
        bad "systemd-sysusers deploy/availd.sysusers.conf"
    fi
else
    skip "sysusers entry: no systemd-sysusers (Debian package systemd)"
fi

# ---------------------------------------------------------------------------------------------
# The backup unit's command, as systemd would run it (line continuations joined, %% and $$
# unescaped), with /var/lib/availd a temporary folder: the built availd's backup on a real
# database.

backup_check() {
    local state=$work/state bin=$availd_bin
    mkdir -p "$state/backups"
    if [ -z "$availd_bin" ]; then
        bad "availd-backup.service's command: no built availd (make test builds it first)"
        return
    fi
    AVAILD_DATABASE=$state/availd.sqlite "$availd_bin" replay fixtures/deliveries >/dev/null
    # Copies older than 14 days go, younger ones stay.
    touch -d '20 days ago' "$state/backups/availd-2000-01-01.sqlite"
    touch -d '10 days ago' "$state/backups/availd-2000-01-11.sqlite"
    python3 - "$repo/deploy/availd-backup.service" "$state" "$bin" > "$work/backup-argv" <<'PY'
import re, shlex, sys
unit, state, binary = sys.argv[1:]
text = re.sub(r"\\\n", " ", open(unit).read())
lines = [l for l in text.splitlines() if l.startswith("ExecStart=")]
assert len(lines) == 1, "one ExecStart= in availd-backup.service"
command = lines[0][len("ExecStart="):].replace("%%", "%").replace("$$", "$")
command = command.replace("/usr/local/bin/availd", binary).replace("/var/lib/availd", state)
for word in shlex.split(command):
    sys.stdout.write(word + "\0")
PY
    local status=0
    (cd "$state" && AVAILD_DATABASE=$state/availd.sqlite xargs -0 -a "$work/backup-argv" env) > "$work/backup.log" 2>&1 || status=$?
    local today
    today=$state/backups/availd-$(date +%F).sqlite
    local problems=()
    [ "$status" -eq 0 ] || problems+=("exit $status")
    [ -s "$today" ] || problems+=("no $today")
    [ ! -e "$state/backups/availd-2000-01-01.sqlite" ] || problems+=("a 20-day-old copy kept")
    [ -e "$state/backups/availd-2000-01-11.sqlite" ] || problems+=("a 10-day-old copy deleted")
    local left
    left=$(cd "$state/backups" && { compgen -G "*.partial*"; compgen -G "*.new"; compgen -G "*-wal"; compgen -G "*-journal"; compgen -G "*.read-models-*"; } | sort -u) || true
    [ -z "$left" ] || problems+=("left behind: $(printf '%s' "$left" | tr '\n' ' ')")
    if [ -s "$today" ] && ! "$availd_bin" verify --nice 0 --database "$today" > "$work/verify.log" 2>&1; then
        cat "$work/verify.log" >> "$work/backup.log"
        problems+=("availd verify fails on the copy")
    fi
    if [ ${#problems[@]} -eq 0 ]; then
        ok "availd-backup.service's command: $(basename "$today") written and verified, the 20-day-old copy deleted"
    else
        indent < "$work/backup.log" >&2
        bad "availd-backup.service's command: ${problems[*]}"
    fi
}
backup_check

# ---------------------------------------------------------------------------------------------
# Reverse proxies and compose

if have nginx && have openssl; then
    mkdir -p "$work/nginx/tmp"
    openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=availd.example.com \
        -keyout "$work/nginx/key.pem" -out "$work/nginx/cert.pem" 2>/dev/null
    sed -e "s#/etc/letsencrypt/live/availd.example.com/fullchain.pem#$work/nginx/cert.pem#" \
        -e "s#/etc/letsencrypt/live/availd.example.com/privkey.pem#$work/nginx/key.pem#" \
        deploy/nginx-single-host.conf > "$work/nginx/availd.conf"
    cat > "$work/nginx/nginx.conf" <<EOF
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events {}
http {
    access_log off;
    client_body_temp_path $work/nginx/tmp/body;
    proxy_temp_path $work/nginx/tmp/proxy;
    fastcgi_temp_path $work/nginx/tmp/fastcgi;
    uwsgi_temp_path $work/nginx/tmp/uwsgi;
    scgi_temp_path $work/nginx/tmp/scgi;
    include $work/nginx/availd.conf;
}
EOF
    status=0
    output=$("${offline[@]}" nginx -t -c "$work/nginx/nginx.conf" -p "$work/nginx/" -e "$work/nginx/error.log" 2>&1) || status=$?
    if [ "$status" -eq 0 ] && ! printf '%s\n' "$output" | grep -qE '\[(warn|emerg|alert|crit|error)\]'; then
        ok "nginx -t nginx-single-host.conf ($(nginx -v 2>&1 | sed 's/.*version: //'), a self-signed certificate)"
    else
        printf '%s\n' "$output" | indent >&2
        bad "nginx -t deploy/nginx-single-host.conf"
    fi
else
    skip "deploy/nginx-single-host.conf: no nginx or openssl (Debian packages nginx, openssl)"
fi

if have caddy; then
    for site in availd.localhost availd.example.com; do
        status=0
        output=$(HOME=$work/caddy XDG_DATA_HOME=$work/caddy/data XDG_CONFIG_HOME=$work/caddy/config AVAILD_SITE=$site \
            "${offline[@]}" caddy validate --config deploy/Caddyfile --adapter caddyfile 2>&1) || status=$?
        # caddy adapt warns (and still succeeds) about an unformatted file or a deprecated form.
        if [ "$status" -eq 0 ] && ! printf '%s\n' "$output" | grep -q '"level":"warn"'; then
            ok "caddy validate Caddyfile with AVAILD_SITE=$site ($(caddy version | cut -d' ' -f1))"
        else
            printf '%s\n' "$output" | indent >&2
            bad "caddy validate deploy/Caddyfile (AVAILD_SITE=$site)"
        fi
    done
else
    skip "deploy/Caddyfile: no caddy (Debian package caddy)"
fi

compose=()
if docker compose version >/dev/null 2>&1; then
    compose=(docker compose)
elif have docker-compose; then
    compose=(docker-compose)
fi
if [ ${#compose[@]} -gt 0 ]; then
    status=0
    output=$(env -u AVAILD_SITE "${offline[@]}" "${compose[@]}" -f deploy/compose.yaml config 2>&1 >"$work/compose.out") || status=$?
    if [ "$status" -eq 0 ] && [ -z "$output" ]; then
        ok "${compose[*]} config compose.yaml ($("${compose[@]}" version --short 2>/dev/null || echo '?'), no engine needed)"
    else
        printf '%s\n' "$output" | indent >&2
        bad "${compose[*]} -f deploy/compose.yaml config"
    fi
else
    skip "deploy/compose.yaml: neither docker compose nor docker-compose (Debian package docker-compose)"
fi

# ---------------------------------------------------------------------------------------------
# The Containerfile (no engine here to build it) and the names every file shares with availd.

status=0
python3 - <<'PY' || status=$?
import fnmatch, json, os, re, sys

problems = []

def read(path):
    with open(path) as f:
        return f.read()

# The readiness path the daemon serves.
routes = re.findall(r'router\.get\("(/[a-z]+)"\)', read("Sources/AvailServer/Routes/OperationsController.swift"))
ready = "/readyz"
if ready not in routes:
    problems.append(f"the daemon serves no {ready} (OperationsController: {routes})")

# Containerfile: instructions, continuation lines joined, comments dropped.
text = re.sub(r"\\\n", " ", read("deploy/Containerfile"))
instructions = [l.strip() for l in text.splitlines() if l.strip() and not l.strip().startswith("#")]
stages, final = [], []
for line in instructions:
    word, _, rest = line.partition(" ")
    word = word.upper()
    if word == "FROM":
        m = re.fullmatch(r"(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?", rest.strip(), re.I)
        if not m:
            problems.append(f"cannot read FROM {rest}")
            continue
        image, name = m.group(1), m.group(2)
        if "@sha256:" not in image and (":" not in image.split("/")[-1] or image.endswith(":latest")):
            problems.append(f"FROM {image}: not pinned to a tag or digest")
        if name and name in stages:
            problems.append(f"stage {name} defined twice")
        stages.append(name or f"#{len(stages)}")
        final = []
    elif not stages:
        if word != "ARG":
            problems.append(f"{word} before the first FROM")
    else:
        final.append((word, rest))
        if word == "COPY":
            m = re.search(r"--from=(\S+)", rest)
            if m and m.group(1) not in stages[:-1]:
                problems.append(f"COPY --from={m.group(1)}: no earlier stage of that name ({stages[:-1]})")
            if not m:
                ignore = [p.strip() for p in read(".dockerignore").splitlines() if p.strip() and not p.startswith("#")]
                for source in [w for w in rest.split() if not w.startswith("--")][:-1]:
                    if not os.path.exists(source):
                        problems.append(f"COPY {source}: no such file in the repository")
                    if any(fnmatch.fnmatch(source, p) for p in ignore):
                        problems.append(f"COPY {source}: excluded by .dockerignore")
words = {w: r for w, r in final}
if len(stages) < 2:
    problems.append("not a multi-stage build")
user = words.get("USER", "root").split(":")[0]
if user in ("root", "0"):
    problems.append("the final stage runs as root")
if "8080" not in words.get("EXPOSE", ""):
    problems.append("no EXPOSE 8080")
if "/var/lib/availd" not in words.get("VOLUME", ""):
    problems.append("no VOLUME /var/lib/availd")
if ready not in words.get("HEALTHCHECK", ""):
    problems.append(f"HEALTHCHECK does not ask {ready}")
try:
    entrypoint = json.loads(words.get("ENTRYPOINT", "null"))
    if not (isinstance(entrypoint, list) and entrypoint[-1] == "serve"):
        problems.append(f"ENTRYPOINT is not [..., 'serve'] in exec form: {entrypoint}")
except json.JSONDecodeError:
    problems.append("ENTRYPOINT is not in exec (JSON) form: SIGTERM would go to a shell")
if "AVAILD_HOST=0.0.0.0" not in words.get("ENV", "").replace(" ", ""):
    problems.append("ENV AVAILD_HOST=0.0.0.0 missing: the container would listen on its own loopback")

if ready not in read("deploy/Caddyfile"):
    problems.append(f"the Caddyfile's health check does not ask {ready}")

# Credentials: the names availd reads from $CREDENTIALS_DIRECTORY; the three the unit requires.
known = {"signing-keys", "admin-token", "secret-key", "calendly-token", "calendly-client-secret", "database-password"}
required = {"signing-keys", "admin-token", "secret-key"}
unit = read("deploy/availd.service")
loaded = set(re.findall(r"^LoadCredential=([^:]+):", unit, re.M))
optional = set(re.findall(r"^#LoadCredential=([^:]+):", unit, re.M))
if loaded != required:
    problems.append(f"availd.service loads {sorted(loaded)}, not {sorted(required)}")
if (loaded | optional) - known:
    problems.append(f"availd.service names unknown credentials {sorted((loaded | optional) - known)}")
if known - loaded - optional:
    problems.append(f"availd.service does not mention {sorted(known - loaded - optional)}")
compose = read("deploy/compose.yaml")
secrets = set(re.findall(r"^  ([a-z-]+):\n    file: ", compose, re.M))
if not required <= secrets or secrets - known:
    problems.append(f"compose.yaml's secrets {sorted(secrets)}: need {sorted(required)}, know {sorted(known)}")
if "CREDENTIALS_DIRECTORY: /run/secrets" not in compose:
    problems.append("compose.yaml does not set CREDENTIALS_DIRECTORY=/run/secrets")

# Every AVAILD_* variable a file sets is one availd reads; no secret among them.
sources = "".join(read(os.path.join(d, f)) for d, _, fs in os.walk("Sources/availd") for f in fs if f.endswith(".swift"))
readable = set(re.findall(r'"(AVAILD_[A-Z_]+)"', sources))
secret_variables = {"AVAILD_SIGNING_KEYS", "AVAILD_ADMIN_TOKEN", "AVAILD_SECRET_KEY", "AVAILD_CALENDLY_TOKEN", "AVAILD_CALENDLY_CLIENT_SECRET"}
for path in ["deploy/availd.env.example", "deploy/availd.service", "deploy/availd-backup.service", "deploy/compose.yaml", "deploy/Containerfile"]:
    text = read(path)
    named = set(re.findall(r"\b(AVAILD_[A-Z_]+)\b", text)) - {"AVAILD_SITE"}  # AVAILD_SITE: Caddy's
    if named - readable:
        problems.append(f"{path}: availd reads no {sorted(named - readable)}")
    set_secrets = set(re.findall(r"^\s*(?:Environment=|ENV\s+)?(AVAILD_[A-Z_]+)[=:]", text, re.M)) & secret_variables
    if set_secrets:
        problems.append(f"{path} sets secrets as variables: {sorted(set_secrets)}")

for problem in problems:
    print(f"    {problem}", file=sys.stderr)
sys.exit(1 if problems else 0)
PY
if [ "$status" -eq 0 ]; then
    ok "Containerfile stages (pinned images, COPY --from, non-root, HEALTHCHECK /readyz) and the names deploy/ shares with availd"
else
    bad "Containerfile or names shared with availd (above)"
fi
echo "deploy-check: the Containerfile is not built here (no container engine): \`podman build -f deploy/Containerfile .\` on a host that has one" >&2

echo "deploy-check: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
