#!/usr/bin/env bash
# TimescaleDB for the storage tests: builds the extension from the vendored source
# (../shared/vendor/timescaledb-*.tar.gz, about a minute on 2 cores, once per machine)
# into the machine's PostgreSQL, then runs two PostgreSQL clusters of their own that
# preload it, one per edition:
#
#   127.0.0.1:5433  timescaledb.license = 'timescale'  (community: retention and
#                   compression policies)
#   127.0.0.1:5434  timescaledb.license = 'apache'     (Apache-2.0: hypertables only)
#
# each with trust auth and a `test` database. The machine's own cluster on 5432 is left
# alone (the extension is installed but not preloaded there, so it stays plain
# PostgreSQL, the third case driftd supports). The license can only be set in the
# server's configuration, not per database, hence two clusters. Idempotent: a build
# already installed is reused, a cluster already listening is left alone.
#
#   bash scripts/timescaledb.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# The vendored source: beside the checkout (../shared/vendor) or where
# DRIFTD_VENDOR_DIR says; only needed when the extension is not installed yet.
tarball=""
for dir in "${DRIFTD_VENDOR_DIR:-}" ../shared/vendor /work/shared/vendor; do
  if [[ -n $dir ]] && ls "$dir"/timescaledb-*.tar.gz >/dev/null 2>&1; then
    tarball=$(ls "$dir"/timescaledb-*.tar.gz | sort -V | tail -n1)
    break
  fi
done
pg_major=$(ls /etc/postgresql | sort -n | tail -n1)

listening() { timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

install_build_deps() {
  if [[ ! -x /usr/bin/cmake || ! -x /usr/lib/postgresql/$pg_major/bin/pg_config ]] \
    || ! dpkg -s "postgresql-server-dev-$pg_major" >/dev/null 2>&1; then
    echo "timescaledb: installing build dependencies" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "postgresql-server-dev-$pg_major" cmake >/dev/null
  fi
}

build() {
  local libdir
  libdir=$(/usr/lib/postgresql/$pg_major/bin/pg_config --pkglibdir)
  local installed
  installed=$(ls "$libdir"/timescaledb-tsl-*.so 2>/dev/null | head -n1 || true)
  if [[ -n $installed && -f $libdir/timescaledb.so ]]; then
    echo "timescaledb: $(basename "$installed" .so | sed 's/timescaledb-tsl-//') already installed in $libdir"
    return
  fi
  if [[ -z $tarball ]]; then
    echo "timescaledb: not installed, and no vendored source (timescaledb-*.tar.gz) in ../shared/vendor or \$DRIFTD_VENDOR_DIR" >&2
    exit 1
  fi
  local version
  version=$(basename "$tarball" .tar.gz)
  version=${version#timescaledb-}
  echo "timescaledb: building $version against PostgreSQL $pg_major (about a minute)"
  local src
  src=$(mktemp -d)
  tar xzf "$tarball" -C "$src"
  (
    cd "$src/timescaledb-$version"
    PATH=/usr/lib/postgresql/$pg_major/bin:$PATH ./bootstrap -DREGRESS_CHECKS=OFF -DTAP_CHECKS=OFF \
      -DWARNINGS_AS_ERRORS=OFF -DLINTER=OFF >"$src/bootstrap.log" 2>&1 \
      || { tail -n 30 "$src/bootstrap.log" >&2; exit 1; }
    make -C build -j"$(nproc)" >"$src/make.log" 2>&1 || { tail -n 30 "$src/make.log" >&2; exit 1; }
    make -C build install >"$src/install.log" 2>&1 || { tail -n 30 "$src/install.log" >&2; exit 1; }
  )
  rm -rf "$src"
  echo "timescaledb: installed in $libdir"
}

cluster() {
  local name=$1 port=$2 license=$3
  if ! pg_lsclusters -h | awk '{print $2}' | grep -qx "$name"; then
    echo "timescaledb: creating cluster $name on port $port ($license edition)"
    pg_createcluster "$pg_major" "$name" --port "$port" -- --auth=trust >/dev/null
  fi
  local conf=/etc/postgresql/$pg_major/$name/conf.d/90-timescaledb.conf
  local want
  want=$(printf "%s\n" "listen_addresses = '127.0.0.1'" "port = $port" \
    "shared_preload_libraries = 'timescaledb'" "timescaledb.license = '$license'" \
    "timescaledb.telemetry_level = off" "max_connections = 200" "fsync = off")
  if [[ "$(cat "$conf" 2>/dev/null)" != "$want" ]]; then
    echo "$want" >"$conf"
    if listening "$port"; then
      pg_ctlcluster --skip-systemctl-redirect "$pg_major" "$name" restart
    fi
  fi
  if ! listening "$port"; then
    pg_ctlcluster --skip-systemctl-redirect "$pg_major" "$name" start
  fi
  for _ in $(seq 1 60); do
    listening "$port" && break
    sleep 0.5
  done
  if ! listening "$port"; then
    echo "timescaledb: cluster $name did not come up on 127.0.0.1:$port" >&2
    tail -n 20 "/var/log/postgresql/postgresql-$pg_major-$name.log" >&2 || true
    exit 1
  fi
  if ! psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1; then
    psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -qc "CREATE DATABASE test"
  fi
  local got
  got=$(psql -h 127.0.0.1 -p "$port" -U postgres -d test -tAc "SHOW timescaledb.license")
  echo "timescaledb: $name on 127.0.0.1:$port, license $got"
}

install_build_deps
build
cluster timescale 5433 timescale
cluster timescale_apache 5434 apache
