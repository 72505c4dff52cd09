#!/usr/bin/env bash
# `make run`: start the managed PostgreSQL when the configuration points at it, then serve.
set -euo pipefail
cd "$(dirname "$0")/.."
config="${1:-firefly.yaml}"
managed="postgres://firefly@127.0.0.1:54329/firefly"

url="${FIREFLY_POSTGRES_URL:-$managed}"
if grep -q 'FIREFLY_POSTGRES_URL' "$config" && [[ "$url" == "$managed" ]]; then
    # Left running when the collector exits, so data survives restarts; `scripts/postgres.sh stop` stops it.
    scripts/postgres.sh start
fi
bin=$(swift build -c release --show-bin-path)
exec "$bin/firefly" serve --config "$config"
