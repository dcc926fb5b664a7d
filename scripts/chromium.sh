#!/usr/bin/env bash
# Installs headless Chromium and its WebDriver (Debian `chromium`, `chromium-driver`)
# if they are missing, for tests/console.rs, which starts chromedriver itself, and
# prints chromedriver's path. Idempotent.
#
#   bash scripts/chromium.sh
set -euo pipefail
if [[ ! -x /usr/bin/chromium || ! -x /usr/bin/chromedriver ]]; then
  echo "chromium: installing chromium and chromium-driver" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-dejavu-core >&2
fi
echo /usr/bin/chromedriver
