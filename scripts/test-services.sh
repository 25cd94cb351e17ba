# Sourced by run-tests.sh: starts a throwaway PostgreSQL and Redis on free loopback ports and
# exports TEST_PG_URL and REDIS_URL; `stop_test_services` (run on exit) removes them again.
# Installs the servers with apt-get when they are missing. PostgreSQL refuses to run as root,
# so when we are root it runs as the unprivileged `postgres` user.

_as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

_apt_install() {
  echo "installing $* with apt-get" >&2
  _as_root apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive _as_root apt-get install -y -qq "$@" >/dev/null
}

_free_port() {
  "${PYTHON_BIN:-python3}" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

_pg_bin_dir() {
  local initdb
  initdb=$(command -v initdb 2>/dev/null || true)
  if [ -z "$initdb" ]; then
    initdb=$(ls -1 /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)
  fi
  [ -n "$initdb" ] && dirname "$(readlink -f "$initdb")"
}

start_postgres() {
  local bin
  bin=$(_pg_bin_dir || true)
  if [ -z "$bin" ]; then
    _apt_install postgresql
    bin=$(_pg_bin_dir)
  fi
  PG_DIR=$(mktemp -d /tmp/aicmo-pg.XXXXXX)
  PG_PORT=$(_free_port)
  local run=()
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown postgres "$PG_DIR"
    run=(runuser -u postgres --)
  fi
  PG_RUN=("${run[@]}")
  "${run[@]}" "$bin/initdb" -D "$PG_DIR/data" -U aicmo -A trust -E UTF8 --no-sync >"$PG_DIR/initdb.log" 2>&1 \
    || { cat "$PG_DIR/initdb.log" >&2; return 1; }
  "${run[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
    -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 ${PG_EXTRA_OPTS:-}" \
    start >/dev/null || { cat "$PG_DIR/server.log" >&2; return 1; }
  PG_CTL="$bin/pg_ctl"
  export TEST_PG_URL="postgres://aicmo@127.0.0.1:$PG_PORT/aicmo"
  # tests/integration/test_database_restart.py restarts this server mid-cycle (`pg_ctl restart`).
  export TEST_PG_DATA="$PG_DIR/data" TEST_PG_CTL="$PG_CTL" TEST_PG_RUN_AS="${run[*]:+postgres}"
  "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U aicmo aicmo
  echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on port $PG_PORT" >&2
}

start_redis() {
  command -v redis-server >/dev/null 2>&1 || _apt_install redis-server
  REDIS_DIR=$(mktemp -d /tmp/aicmo-redis.XXXXXX)
  REDIS_PORT=$(_free_port)
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$REDIS_DIR" \
    --daemonize yes --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log"
  for _ in $(seq 1 50); do
    redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
  echo "Redis $(redis-server --version | awk '{print $3}') on port $REDIS_PORT" >&2
}

stop_test_services() {
  if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR" ]; then
    "${PG_RUN[@]}" "$PG_CTL" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
  fi
  if [ -n "${REDIS_DIR:-}" ] && [ -d "$REDIS_DIR" ]; then
    if [ -n "${REDIS_PORT:-}" ]; then
      redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
    fi
    # Wait for it to exit before removing its folder (it may still be writing its log there).
    for _ in $(seq 1 50); do
      redis-cli -p "${REDIS_PORT:-0}" ping >/dev/null 2>&1 || break
      sleep 0.1
    done
    rm -rf "$REDIS_DIR" 2>/dev/null || { sleep 1; rm -rf "$REDIS_DIR" 2>/dev/null; } || true
  fi
}

# pdftotext reads the text of the PDFs the deliverables app renders (tests/deliverables).
ensure_pdftotext() {
  command -v pdftotext >/dev/null 2>&1 || _apt_install poppler-utils
}

# spamassassin scores the demo emails with its local rules (tests/outreach/senders/test_spam_score.py).
ensure_spamassassin() {
  command -v spamassassin >/dev/null 2>&1 || _apt_install spamassassin
  export AICMO_REQUIRE_SPAMASSASSIN=1
}

# Dovecot: the reply inbox tests start their own throwaway IMAP server from it (tests/outreach/inbox).
ensure_dovecot() {
  command -v dovecot >/dev/null 2>&1 || [ -x /usr/sbin/dovecot ] || _apt_install dovecot-imapd
  export AICMO_REQUIRE_DOVECOT=1
}

ensure_chromium() {
  command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || _apt_install chromium
  export AICMO_REQUIRE_BROWSER=1
}
