#!/usr/bin/env bash
# `make bench`: build release, start PostgreSQL and Prometheus on loopback, run firefly-bench (which
# starts `firefly serve` itself, once per configuration, to time its start), then stop everything.
# Results: a table on stdout and JSON under .firefly/bench/. Extra arguments go to firefly-bench
# (e.g. `scripts/bench.sh --seconds 2 --only decode,ingest`).
set -euo pipefail
cd "$(dirname "$0")/.."

FIREFLY_BOOTSTRAP_TEST=1 scripts/bootstrap     # the test set includes Prometheus
make --no-print-directory build plugins        # release build (firefly, plugins, firefly-bench), staged plugins
bin=$(swift build -c release --show-bin-path)

work=.firefly/bench
mkdir -p "$work"
export FIREFLY_PG_DIR="$PWD/.firefly/bench-postgres"
export FIREFLY_PG_PORT="${FIREFLY_BENCH_PG_PORT:-54349}"   # another port when 54349 is taken
prometheus_port=19099
prometheus_dir=$(mktemp -d /tmp/firefly-bench-prometheus.XXXXXX)
prometheus_pid=""

cleanup() {
    if [[ -n "$prometheus_pid" ]]; then
        kill "$prometheus_pid" 2>/dev/null || true
        wait "$prometheus_pid" 2>/dev/null || true
    fi
    rm -rf "$prometheus_dir"
    scripts/postgres.sh stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

scripts/postgres.sh start

# A throwaway Prometheus that scrapes nothing and accepts remote-write, on loopback only.
printf 'global:\n  scrape_interval: 1h\n' >"$prometheus_dir/prometheus.yml"
/usr/bin/prometheus --config.file="$prometheus_dir/prometheus.yml" --storage.tsdb.path="$prometheus_dir/data" \
    --web.listen-address="127.0.0.1:$prometheus_port" --web.enable-remote-write-receiver \
    >"$work/prometheus.log" 2>&1 &
prometheus_pid=$!
ready() {  # bash's /dev/tcp: no curl needed
    exec 3<>"/dev/tcp/127.0.0.1/$prometheus_port" || return 1
    printf 'GET /-/ready HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
    local status
    read -r _ status _ <&3 || status=""
    exec 3<&-
    [[ "$status" == "200" ]]
}
for _ in $(seq 1 300); do
    ready 2>/dev/null && break
    kill -0 "$prometheus_pid" 2>/dev/null || { cat "$work/prometheus.log"; echo "bench: Prometheus did not start"; exit 1; }
    sleep 0.1
done

"$bin/firefly-bench" \
    --firefly "$bin/firefly" \
    --work-dir "$work" \
    --plugins .firefly/plugins \
    --port 14318 \
    --postgres-url "$(scripts/postgres.sh url)" \
    --psql "$(command -v psql)" \
    --prometheus-url "http://127.0.0.1:$prometheus_port" \
    --commit "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
    "$@"
