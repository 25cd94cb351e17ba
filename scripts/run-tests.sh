#!/usr/bin/env bash
# `make test`: the suite on SQLite, then on PostgreSQL (both with a real Redis), then the
# architecture contracts (import-linter) and ruff. Servers are throwaway and stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export PYTHON_BIN=$BIN/python
# shellcheck source=scripts/test-services.sh
source scripts/test-services.sh
trap stop_test_services EXIT

ensure_chromium
ensure_spamassassin
ensure_pdftotext
ensure_dovecot
start_redis
start_postgres

echo "=== tests on SQLite ==="
env -u DATABASE_URL "$BIN/pytest" "$@"

echo "=== tests on PostgreSQL ==="
DATABASE_URL="$TEST_PG_URL" AICMO_REQUIRE_PG_RESTART=1 "$BIN/pytest" "$@"

echo "=== import-linter ==="
"$BIN/lint-imports"

echo "=== ruff ==="
"$BIN/ruff" check .
"$BIN/ruff" format --check --quiet . || { echo "ruff format would change files: run 'ruff format .'"; exit 1; }
