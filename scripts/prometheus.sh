#!/usr/bin/env bash
# Installs Prometheus (Debian `prometheus`, which also gives `promtool`) if it is
# missing, for tests/dashboard.rs, which starts its own scraping driftd, and prints
# the binary's path. Idempotent. The package's own service is not needed: it is
# stopped and disabled so it does not hold port 9090.
#
#   bash scripts/prometheus.sh
set -euo pipefail
bin=/usr/bin/prometheus
if [[ ! -x $bin ]]; then
  echo "prometheus: installing prometheus" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >&2
  (service prometheus stop || true) >/dev/null 2>&1
fi
echo "$bin"
