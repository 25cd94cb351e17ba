#!/usr/bin/env bash
# Runs one benchmark against a throwaway PostgreSQL: scripts/run-bench.sh bench/outreach_send.py [ARGS]
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHON_BIN=.venv/bin/python
# shellcheck source=scripts/test-services.sh
source scripts/test-services.sh
trap stop_test_services EXIT
start_postgres
DATABASE_URL="$TEST_PG_URL" AICMO_VAR_DIR="$(mktemp -d)" .venv/bin/python "$@"
