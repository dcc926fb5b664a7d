#!/usr/bin/env bash
# Makes sure the servers driftd's tests talk to are up on this machine, starting any
# that are not: PostgreSQL (127.0.0.1:5432), Redis (127.0.0.1:6379) and MariaDB
# (127.0.0.1:3306), each with its `test` database. Idempotent: a server already
# listening is left alone. Exits non-zero, naming the server, if one does not come up.
#
#   bash scripts/services.sh
set -euo pipefail

listening() {
  timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

wait_for() {
  local name=$1 port=$2
  for _ in $(seq 1 120); do
    if listening "$port"; then
      echo "$name: listening on 127.0.0.1:$port"
      return 0
    fi
    sleep 0.5
  done
  echo "$name did not come up on 127.0.0.1:$port" >&2
  return 1
}

ensure() {
  local name=$1 port=$2
  shift 2
  if listening "$port"; then
    echo "$name: already up"
  else
    echo "$name: starting"
    # A start that reports an error (e.g. already starting) is judged by the port.
    "$@" || echo "$name: start command exited with $?" >&2
  fi
  wait_for "$name" "$port"
}

start_postgres() {
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
}

start_redis() {
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
}

start_mariadb() {
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
}

ensure PostgreSQL 5432 start_postgres
ensure Redis 6379 start_redis
ensure MariaDB 3306 start_mariadb

# The databases the tests use (present on a machine of this kind; created if not).
if command -v psql >/dev/null; then
  if ! psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1; then
    psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE test"
  fi
fi
if command -v mariadb >/dev/null; then
  mariadb -h 127.0.0.1 -u root -e "CREATE DATABASE IF NOT EXISTS test"
fi
echo "services ready"
