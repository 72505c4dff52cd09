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
# glibc's default of one malloc arena per thread multiplies peak memory under concurrent requests
# (measured by make bench: 1.2 GiB vs 837 MiB at 5 MiB bodies x 16 connections).
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
exec "$bin/firefly" serve --config "$config"
