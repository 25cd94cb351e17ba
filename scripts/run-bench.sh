#!/usr/bin/env bash
# Runs one benchmark against a throwaway PostgreSQL: scripts/run-bench.sh bench/outreach_send.py [ARGS]
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHON_BIN=.venv/bin/python
# shellcheck source=scripts/test-services.sh
source scripts/test-services.sh
trap stop_test_services EXIT
# Benchmarks build tables of a million rows or more: give the throwaway server the buffers a
# production one would have (the tests keep PostgreSQL's small default).
export PG_EXTRA_OPTS="${PG_EXTRA_OPTS:--c shared_buffers=1GB -c max_wal_size=4GB}"
start_postgres
DATABASE_URL="$TEST_PG_URL" AICMO_VAR_DIR="$(mktemp -d)" .venv/bin/python "$@"
