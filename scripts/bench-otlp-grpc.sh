#!/usr/bin/env bash
# End-to-end OTLP load: driftd (release, default config) and `driftd bench` on this
# machine. Prints the tool's figures (points/s, errors, request latency), driftd's CPU,
# points per CPU-second and RSS (measured by the tool through --pid), and driftd's own
# accepted-points counter next to what the tool sent.
#
#   scripts/bench-otlp-grpc.sh [--series N] [--points-per-request P] [--concurrency C]
#                              [--connections K] [--duration 20s] [--rate N] ...
#
# Arguments go to `driftd bench`. BENCH_PROTOCOL=http sends OTLP/HTTP protobuf instead
# (scripts/bench-otlp-http.sh); scripts/bench-latency.sh adds the ack→event probe.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-target.sh
cargo build --release --quiet --bin driftd
bin=./target/release/driftd
RUST_LOG=warn $bin &
pid=$!
out=$(mktemp)
trap 'kill $pid 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 50); do curl -sf "$DRIFTD_API_ENDPOINT/health" >/dev/null && break; sleep 0.1; done
kill -0 $pid 2>/dev/null || { echo "driftd did not start" >&2 && exit 1; }

$bin bench --protocol "$protocol" --endpoint "$endpoint" --api "http://$DRIFTD_API_ENDPOINT" --pid "$pid" "$@" | tee "$out"

sent=$(sed -n 's/^sent \([0-9]*\) points.*/\1/p' "$out")
probe=$(sed -n 's/.* \([0-9]*\) probe points sent.*/\1/p' "$out")
accepted=$(curl -s "$DRIFTD_PROMETHEUS_ENDPOINT/metrics" | awk -v t="transport=\"$protocol\"" \
  'index($0, "driftd_receiver_accepted_points_total{") == 1 && index($0, t) { s += $NF } END { printf "%d", s }')
echo "driftd accepted: $accepted (sent: $((sent + ${probe:-0})))"
