#!/usr/bin/env bash
# Makes the Python virtualenv with the real OpenTelemetry SDK that tests/otel_sdk.rs
# drives (packages pinned in tests/otel_sdk/requirements.txt, from PyPI), and prints
# its python's path. Idempotent: an existing venv made from the same requirements is
# reused (about 30 s the first time). Safe to run concurrently.
#
#   bash scripts/otel-python.sh
set -euo pipefail
cd "$(dirname "$0")/.."
requirements=tests/otel_sdk/requirements.txt
venv=${DRIFTD_OTEL_VENV:-target/otel-venv}
stamp="$venv/requirements.sha256"
want=$(sha256sum "$requirements" | cut -d' ' -f1)
# Tests run in parallel and may all call this at once: one installs, the rest wait.
mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9
if [[ ! -x "$venv/bin/python" || "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
  echo "otel-python: installing $requirements into $venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >&2
  echo "$want" > "$stamp"
fi
echo "$(pwd)/$venv/bin/python"
