#!/usr/bin/env bash
# The test command: on a fresh machine of this kind it installs and starts everything
# the suite talks to, then checks formatting and lints and runs the whole workspace's
# tests (every shipped config is validated among them). Idempotent: what is installed
# is reused, what runs is left running (a second run starts straight at the checks).
#
#   bash scripts/test.sh            # everything, as CI runs it
#   bash scripts/test.sh -- --test restart   # the servers, then only what follows `--`
#                                            # (arguments to `cargo test`)
#
# Then it runs every fuzz target briefly (scripts/fuzz.sh).
#
# What it sets up (each script says more):
#   services.sh     PostgreSQL 5432, Redis 6379, MariaDB 3306, each with a `test` db
#   timescaledb.sh  TimescaleDB from ../shared/vendor, community (5433) and Apache (5434)
#   kafka.sh        the tansu Kafka-protocol broker on 9092 (a 15-20 min build, once)
#   alertmanager.sh, prometheus.sh, chromium.sh (Debian packages), otel-python.sh
#                   (the OpenTelemetry Python SDK from PyPI): the tests start their own
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }

only=()
if [[ ${1:-} == -- ]]; then
  shift
  only=("$@")
fi

step "servers"
bash scripts/services.sh
bash scripts/timescaledb.sh
bash scripts/kafka.sh

step "tools the tests start"
echo "alertmanager: $(bash scripts/alertmanager.sh)"
echo "prometheus: $(bash scripts/prometheus.sh)"
echo "chromedriver: $(bash scripts/chromium.sh)"
echo "python with the OpenTelemetry SDK: $(bash scripts/otel-python.sh)"
# tests/tls.rs makes its certificates with openssl and reads the API with curl.
if ! command -v openssl >/dev/null || ! command -v curl >/dev/null; then
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssl curl ca-certificates >&2
fi
echo "openssl: $(command -v openssl), curl: $(command -v curl)"

if ((${#only[@]})); then
  step "cargo test ${only[*]}"
  exec cargo test "${only[@]}"
fi

step "format"
rustup component add rustfmt clippy >/dev/null 2>&1 || true
cargo fmt --all -- --check

step "lint"
cargo clippy --workspace --all-targets -- -D warnings

step "tests"
cargo test --workspace

step "fuzzers (10 s per parser of untrusted bytes)"
bash scripts/fuzz.sh 10
step "all passed"
