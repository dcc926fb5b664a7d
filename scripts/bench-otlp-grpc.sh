#!/usr/bin/env bash
# End-to-end OTLP/gRPC load: driftd (release, default config) and the load tool on
# this machine. Prints the tool's figures, driftd's CPU time, points per CPU-second,
# peak RSS, and driftd's own accepted-points counter (to compare with what was sent).
#
#   scripts/bench-otlp-grpc.sh [--series N] [--points-per-request P] [--duration 20s] ...
#
# Arguments go to `driftd bench`.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin driftd
bin=./target/release/driftd
export DRIFTD_OTLP_GRPC_ENDPOINT=127.0.0.1:14317 DRIFTD_OTLP_HTTP_ENDPOINT=127.0.0.1:14318
export DRIFTD_PROMETHEUS_ENDPOINT=127.0.0.1:19464 DRIFTD_API_ENDPOINT=127.0.0.1:18000
RUST_LOG=warn $bin &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf localhost:18000/health >/dev/null && break; sleep 0.1; done

ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
before=$(ticks)
$bin bench --endpoint http://127.0.0.1:14317 "$@" | tee /tmp/driftd-bench.out
after=$(ticks)

hz=$(getconf CLK_TCK)
sent=$(sed -n 's/^sent \([0-9]*\) points.*/\1/p' /tmp/driftd-bench.out)
cpu=$(echo "scale=2; ($after - $before) / $hz" | bc)
accepted=$(curl -s localhost:19464/metrics | awk '/^driftd_receiver_accepted_points_total\{.*grpc/ {print $2}')
echo "driftd CPU: ${cpu}s, $(echo "$sent / $cpu" | bc) points per CPU-second"
echo "driftd peak RSS: $(awk '/VmHWM/ {print $2, $3}' /proc/$pid/status)"
echo "driftd accepted: $accepted (sent: $sent)"
