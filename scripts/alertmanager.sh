#!/usr/bin/env bash
# Installs Prometheus Alertmanager (Debian `prometheus-alertmanager`) if it is missing,
# for tests/otel_sdk.rs, which starts its own on a free port, and prints the binary's
# path. Idempotent.
#
#   bash scripts/alertmanager.sh
set -euo pipefail
bin=/usr/bin/prometheus-alertmanager
if [[ ! -x $bin ]]; then
  echo "alertmanager: installing prometheus-alertmanager" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus-alertmanager >&2
fi
echo "$bin"
