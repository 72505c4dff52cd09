#!/usr/bin/env bash
# Firefly's managed local PostgreSQL: a private cluster, reachable on loopback only, for `make run` and `make test`.
#
#   scripts/postgres.sh start    initdb once, start (no-op when running), create database `firefly`
#   scripts/postgres.sh stop     stop the cluster (no-op when stopped); the data stays
#   scripts/postgres.sh status   say whether it runs
#   scripts/postgres.sh url      print the connection URL
#
# FIREFLY_PG_DIR (default .firefly/postgres) is the data directory, FIREFLY_PG_PORT (default 54329) the
# TCP port on 127.0.0.1. Authentication is `trust` for the superuser `firefly`: the server listens on
# 127.0.0.1 only and its unix socket sits in the data directory (mode 0700).
# PostgreSQL refuses to run as root: as root the server runs as the system user `firefly-pg`
# (created when missing), which owns the data directory.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
dir="${FIREFLY_PG_DIR:-$repo/.firefly/postgres}"
[[ "$dir" == /* ]] || dir="$PWD/$dir"
dir="${dir%/}"
port="${FIREFLY_PG_PORT:-54329}"
host=127.0.0.1
user=firefly
database=firefly
os_user=firefly-pg

die() { echo "postgres.sh: $*" >&2; exit 1; }

[[ "$port" =~ ^[0-9]+$ ]] && ((port > 0 && port < 65536)) || die "FIREFLY_PG_PORT must be a TCP port, not '$port'"

# The newest PostgreSQL server Debian installed (PG_BINDIR overrides).
find_bindir() {
    if [[ -n "${PG_BINDIR:-}" ]]; then echo "$PG_BINDIR"; return; fi
    local best
    # Glob order is lexical; pick the highest major version numerically.
    best=$(for d in /usr/lib/postgresql/*/bin; do [[ -x "$d/initdb" ]] && echo "$d"; done | sort -t/ -k5,5n | tail -1)
    [[ -n "$best" ]] || die "no PostgreSQL server found under /usr/lib/postgresql/*/bin (run scripts/bootstrap, or set PG_BINDIR)"
    echo "$best"
}

# Runs a server-side command as the cluster's owner: the current user, or firefly-pg when root.
as_owner() {
    if [[ $(id -u) -eq 0 ]]; then
        (cd / && runuser -u "$os_user" -- "$@" 9>&- </dev/null)
    else
        "$@" 9>&- </dev/null
    fi
}

ensure_os_user() {
    [[ $(id -u) -eq 0 ]] || return 0
    if ! id -u "$os_user" >/dev/null 2>&1; then
        useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$os_user"
    fi
}

ensure_data_dir() {
    mkdir -p "$dir"
    if [[ $(id -u) -eq 0 ]]; then
        chown -R "$os_user:$os_user" "$dir"
        runuser -u "$os_user" -- test -x "$dir" \
            || die "user $os_user cannot reach $dir (a parent directory is not searchable); set FIREFLY_PG_DIR to a directory under /tmp or /var/lib"
    fi
    chmod 700 "$dir"
}

is_running() {
    [[ -f "$dir/PG_VERSION" ]] && as_owner "$bindir/pg_ctl" -D "$dir" status >/dev/null 2>&1
}

psql_admin() {
    "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$host" -p "$port" -U "$user" "$@"
}

start() {
    ensure_os_user
    ensure_data_dir
    if [[ ! -f "$dir/PG_VERSION" ]]; then
        echo "postgres.sh: creating a cluster in $dir"
        local log
        log=$(mktemp)
        as_owner "$bindir/initdb" -D "$dir" -U "$user" --auth=trust -E UTF8 --locale=C.UTF-8 >"$log" 2>&1 \
            || { cat "$log" >&2; rm -f "$log"; die "initdb failed"; }
        rm -f "$log"
        echo "include_if_exists = 'firefly.conf'" >>"$dir/postgresql.conf"
    fi
    if is_running; then
        local running_port
        running_port=$(sed -n 4p "$dir/postmaster.pid" 2>/dev/null || true)
        if [[ -n "$running_port" && "$running_port" != "$port" ]]; then
            echo "postgres.sh: already running on port $running_port, not $port; stop it first to change the port" >&2
            port="$running_port"
        fi
        echo "postgres.sh: already running ($dir)"
    else
        # Rewritten on every (re)start so FIREFLY_PG_PORT can change; nothing ever listens beyond loopback.
        local socket_dir="$dir"
        ((${#dir} + 20 < 107)) || socket_dir=""   # unix socket paths are limited to 107 bytes
        cat >"$dir/firefly.conf" <<EOF
# Written by scripts/postgres.sh on every start; edits are lost.
listen_addresses = '$host'
port = $port
unix_socket_directories = '$socket_dir'
unix_socket_permissions = 0700
EOF
        [[ $(id -u) -eq 0 ]] && chown "$os_user:$os_user" "$dir/firefly.conf"
        as_owner "$bindir/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 start >/dev/null \
            || { tail -n 20 "$dir/server.log" >&2; die "PostgreSQL did not start (log: $dir/server.log)"; }
        echo "postgres.sh: started on $host:$port ($dir)"
    fi
    if [[ -z "$(psql_admin -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$database'")" ]]; then
        psql_admin -d postgres -c "CREATE DATABASE $database"
    fi
}

stop() {
    if is_running; then
        as_owner "$bindir/pg_ctl" -D "$dir" -m fast -w -t 60 stop >/dev/null
        echo "postgres.sh: stopped ($dir)"
    else
        echo "postgres.sh: not running ($dir)"
    fi
}

cmd="${1:-}"
case "$cmd" in
    start | stop | status)
        bindir="$(find_bindir)"
        # One start/stop at a time per data directory (make run and make test may race).
        mkdir -p "$(dirname "$dir")"
        exec 9>"$(dirname "$dir")/.$(basename "$dir").lock"
        flock 9
        case "$cmd" in
            start) start ;;
            stop) stop ;;
            status) if is_running; then echo "running on $host:$port ($dir)"; else echo "not running ($dir)"; exit 3; fi ;;
        esac
        ;;
    url) echo "postgres://$user@$host:$port/$database" ;;
    *) die "usage: scripts/postgres.sh start|stop|status|url" ;;
esac
