# shellcheck shell=bash
# What the benchmark scripts share; sourced (from the repository root) by bench/ingest.sh,
# bench/projection.sh, bench/ingest-wrk.sh, bench/beside.sh, bench/append.sh and bench/daemons.sh, and by bench/venv.sh. Runs
# nothing by itself. The functions read and set the sourcing script's variables: they read $bin
# (the executables' directory), $work (its scratch folder), $server and $url, and set what each
# one says.
# shellcheck disable=SC2034,SC2154

# release_bin [DIR]: the directory holding the release executables, absolute: DIR if given, else
# $AVAILD_BIN if set, else `swift build -c release --show-bin-path`.
release_bin() {
    local dir="${1:-${AVAILD_BIN:-}}"
    if [ -z "$dir" ]; then dir="$(swift build -c release --show-bin-path)"; fi
    realpath -m "$dir"
}

# install_or_explain EXPLANATION PACKAGE...: installs the Debian packages with apt-get when this
# runs as root on a machine that has it; otherwise prints EXPLANATION and the command that would
# install them, and exits 1.
install_or_explain() {
    local explanation="$1"
    shift
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "== installing: $*" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null
        apt-get install -y -qq --no-install-recommends "$@" >/dev/null
    else
        echo "$explanation" >&2
        echo "    sudo apt-get install $*" >&2
        exit 1
    fi
}

# need_commands SCRIPT COMMAND...: the commands missing from PATH, installed as Debian packages of
# the same names (install_or_explain; SCRIPT names who needs them).
need_commands() {
    local script="$1" tool missing=()
    shift
    for tool in "$@"; do command -v "$tool" >/dev/null || missing+=("$tool"); done
    if [ ${#missing[@]} -gt 0 ]; then
        install_or_explain "$script needs these Debian packages; install them with:" "${missing[@]}"
    fi
}

# new_results: makes bench/results; sets $results to it and $stamp to now (UTC, to the second),
# for the names of the files a run writes there.
new_results() {
    results="bench/results"
    mkdir -p "$results"
    stamp="$(date -u +%Y%m%dT%H%M%SZ)"
}

# wait_for_url FILE PREFIX SECONDS [PID]: waits, at most SECONDS and only while PID runs, until
# FILE has a line `PREFIX URL`; prints URL (nothing if none came).
wait_for_url() {
    local file="$1" prefix="$2" seconds="$3" pid="${4:-}"
    for _ in $(seq $((seconds * 10))); do
        grep -q "^$prefix " "$file" 2>/dev/null && break
        if [ -n "$pid" ]; then kill -0 "$pid" 2>/dev/null || break; fi
        sleep 0.1
    done
    sed -n "s/^$prefix //p" "$file"
}

# start_availd DIR SECONDS ARGUMENT...: `$bin/availd serve --port 0 ARGUMENT...` in the background,
# its output in DIR/stdout and DIR/stderr; sets $daemon to its pid and $url to the URL it says it
# listens on (waiting at most SECONDS; empty if it never said).
start_availd() {
    local dir="$1" seconds="$2"
    shift 2
    "$bin/availd" serve --port 0 "$@" > "$dir/stdout" 2> "$dir/stderr" &
    daemon=$!
    url="$(wait_for_url "$dir/stdout" "availd listening on" "$seconds" "$daemon")"
}

# check_listening NAME DIR: exits 1 unless $url is on 127.0.0.1 and answers /healthz (showing
# DIR/stdout and DIR/stderr when it is not).
check_listening() {
    case "$url" in
        http://127.0.0.1:*) ;;
        *) echo "$1 did not start listening on 127.0.0.1 (url '$url'):" >&2; cat "$2/stdout" "$2/stderr" >&2; exit 1 ;;
    esac
    curl -sf -o /dev/null "$url/healthz" || { echo "$1 does not answer $url/healthz" >&2; exit 1; }
}

# server_pids: the processes of $server that stop_server kills if SIGTERM did not stop them; just
# $server unless a script defines its own (after sourcing this).
server_pids() { echo "$server"; }

# stop_server: SIGTERM to $server, SIGKILL to server_pids after 30 s if it is still there; clears
# $server.
stop_server() {
    [ -n "$server" ] || return 0
    local pids pid
    pids="$(server_pids)"
    kill -TERM "$server" 2>/dev/null || true
    for _ in $(seq 300); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
    for pid in $pids; do kill -KILL "$pid" 2>/dev/null || true; done
    wait "$server" 2>/dev/null || true
    server=""
}

# remove_work: deletes $work, or keeps it (and says where) when BENCH_KEEP is set.
remove_work() {
    if [ -n "${BENCH_KEEP:-}" ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# json_field FILE EXPRESSION: evaluates a Python expression over the JSON object `j` on FILE's last line.
json_field() { tail -n 1 "$1" | python3 -c "import json, sys; j = json.load(sys.stdin); print($2)"; }

# git_commit: HEAD's commit, "(with uncommitted changes)" after it if the tree has any.
git_commit() {
    local commit
    commit="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
    git diff --quiet HEAD 2>/dev/null || commit="$commit (with uncommitted changes)"
    echo "$commit"
}

# machine_line: one line on the machine for a text report (cores, memory, kernel, Swift).
machine_line() {
    echo "$(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr), $(swift --version 2>&1 | head -1)"
}

# machine_json LOAD_BEFORE LOAD_AFTER [SWIFT_VERSION]: the "machine" object of a results file, as
# JSON: cores, memory, uname, the load averages given, the Swift version (if given, even empty),
# Python's, and the commit (git_commit).
machine_json() {
    LOAD_BEFORE="$1" LOAD_AFTER="$2" SWIFT_GIVEN="${3+yes}" SWIFT_VERSION="${3:-}" COMMIT="$(git_commit)" python3 - <<'PY'
import json, os, platform
env = os.environ
mem_kb = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal:"))
machine = {
    "nproc": os.cpu_count(),
    "memory_bytes": mem_kb * 1024,
    "uname": " ".join(platform.uname()),
    "loadavg_before": env["LOAD_BEFORE"].split(),
    "loadavg_after": env["LOAD_AFTER"].split(),
}
if env["SWIFT_GIVEN"]:
    machine["swift_version"] = env["SWIFT_VERSION"]
machine["python_version"] = platform.python_version()
machine["git_commit"] = env["COMMIT"]
print(json.dumps(machine))
PY
}

# labelled_builds [LABEL=DIR...]: sets the array $builds to the arguments, or to the release build
# of this tree as "availd=DIR" when there are none; build_label and build_dir split one of them.
labelled_builds() {
    builds=("$@")
    if [ ${#builds[@]} -eq 0 ]; then builds=("availd=$(release_bin)"); fi
}
build_label() { echo "${1%%=*}"; }
build_dir() { realpath -m "${1#*=}"; }

# machine_since LOAD_BEFORE: machine_json from LOAD_BEFORE until now, with this machine's Swift.
machine_since() { machine_json "$1" "$(loadavg)" "$(swift --version 2>&1 | head -1)"; }

# start_postgres SCRIPT: a PostgreSQL cluster initdb'd into $work/data (user availd, trust, UTF8,
# C locale), listening on 127.0.0.1:$port (random) with its socket in $work, extra server
# options in $PG_OPTIONS; run as the postgres user when this runs as root. Sets $pg (the server's
# binaries), $as (the command prefix to run them with) and $port; says what to install, naming
# SCRIPT, when PostgreSQL is missing. stop_postgres stops it.
start_postgres() {
    pg="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
    [ -n "$pg" ] || install_or_explain "$1 needs PostgreSQL's server; install it with:" postgresql
    as=()
    if [ "$(id -u)" -eq 0 ]; then
        local user=postgres
        id postgres >/dev/null 2>&1 || user=nobody
        chown "$user" "$work"
        as=(setpriv --reuid="$user" --regid="$(id -g "$user")" --clear-groups)
    fi
    port=$((20000 + RANDOM % 10000))
    "${as[@]}" "$pg/initdb" -D "$work/data" -U availd --auth=trust -E UTF8 --locale=C >/dev/null
    "${as[@]}" "$pg/pg_ctl" -D "$work/data" -l "$work/server.log" -w \
        -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$work ${PG_OPTIONS:-}" start >/dev/null
}

stop_postgres() { [ -n "${pg:-}" ] || return 0; "${as[@]}" "$pg/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true; }
