#!/usr/bin/env bash
# Single-point POST /v1/telemetry requests per second: driftd (release; the default
# pipeline's shape: http_json -> drift (defaults) -> prometheus, api, memory storage,
# the JSON API and the query API sharing one listener) loaded by wrk (Debian package
# `wrk`) on the same machine. Prints wrk's figures, driftd's CPU time
# and its own accepted/refused counters (to compare with what wrk sent).
#
#   scripts/bench-http-json.sh [DURATION] [CONNECTIONS]     # defaults: 20s 32
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-20s}
connections=${2:-32}
command -v wrk >/dev/null || { echo "install wrk: apt-get install -y wrk" >&2; exit 1; }
cargo build --release --quiet --bin driftd
bin=./target/release/driftd
config=$(mktemp --suffix .yaml)
cat >"$config" <<YAML
receivers:
  http_json:
    endpoint: 127.0.0.1:18000
processors:
  drift: {}
exporters:
  api:
    endpoint: 127.0.0.1:18000
  prometheus:
    endpoint: 127.0.0.1:19464
  storage: {}
service:
  pipelines:
    metrics:
      receivers: [http_json]
      processors: [drift]
      exporters: [prometheus, api, storage]
YAML
RUST_LOG=warn $bin --config "$config" &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$config"' EXIT
for _ in $(seq 50); do curl -sf localhost:18000/health >/dev/null && break; sleep 0.1; done

ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
before=$(ticks)
# One wrk thread: the other core is left to driftd.
wrk -t1 -c"$connections" -d"$duration" --latency -s scripts/wrk-telemetry.lua http://127.0.0.1:18000 | tee /tmp/driftd-wrk.out
after=$(ticks)

hz=$(getconf CLK_TCK)
cpu=$(echo "scale=2; ($after - $before) / $hz" | bc)
requests=$(awk '/requests in/ {print $1}' /tmp/driftd-wrk.out)
counter() { curl -s localhost:19464/metrics | awk -v m="$1" '$0 ~ "^"m"\\{.*http_json" {s += $2} END {print s + 0}'; }
echo "driftd CPU: ${cpu}s, $(echo "$requests / $cpu" | bc) requests per CPU-second"
echo "driftd peak RSS: $(awk '/VmHWM/ {print $2, $3}' /proc/$pid/status)"
echo "driftd accepted points: $(counter driftd_receiver_accepted_points_total) (2 per request; requests: $requests)"
echo "driftd refused points: $(counter driftd_receiver_refused_points_total)"
