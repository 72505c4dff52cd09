#!/usr/bin/env bash
# `make test`: build everything, start PostgreSQL on loopback, run every test, stop what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .firefly

FIREFLY_BOOTSTRAP_TEST=1 scripts/bootstrap

# Warnings in Firefly's own code fail the build (dependencies' warnings are not ours to fix).
if ! swift build --build-tests >.firefly/build.log 2>&1; then
    cat .firefly/build.log
    echo "make test: build failed"
    exit 1
fi
if grep -E "^$PWD/(Sources|plugins|Tests)/.*: warning:" .firefly/build.log; then
    echo "make test: the warnings above are errors"
    exit 1
fi
bin=$(swift build --show-bin-path)

# Under /tmp: as root the server runs as a system user that may not reach a checkout under /root.
export FIREFLY_PG_DIR="${TMPDIR:-/tmp}/firefly-test-postgres-$(printf %s "$PWD" | md5sum | cut -c1-8)"
export FIREFLY_PG_PORT="${FIREFLY_TEST_PG_PORT:-54339}"
cleanup() { scripts/postgres.sh stop >/dev/null 2>&1 || true; }
trap cleanup EXIT
scripts/postgres.sh start
export FIREFLY_TEST_POSTGRES_URL="$(scripts/postgres.sh url)"
export FIREFLY_BUILD_DIR="$bin"

swift test --skip-build
