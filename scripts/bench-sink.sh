#!/usr/bin/env bash
# The load tool's own ceiling: `driftd bench` against `driftd bench --sink`, a
# receiver that takes OTLP/gRPC and OTLP/HTTP on one port, counts and drops. Run with
# the same N/P/C/K as scripts/bench-otlp-grpc.sh to see how far the tool is from
# being the bottleneck. Prints the tool's figures, the sink's CPU and RSS, and what
# the sink received.
#
# BENCH_SINK_DECODE=1 makes the sink decode every request with prost's owned types
# and count the points: a decode-only collector, the reference driftd's points per
# CPU-second read against (the issue's "about 2.6 million" on the machine it names).
#
#   scripts/bench-sink.sh [--protocol http] [--series N] [--points-per-request P] ...
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin driftd
bin=./target/release/driftd
listen=${BENCH_SINK_LISTEN:-127.0.0.1:24317}
out=$(mktemp)
decode=()
[ "${BENCH_SINK_DECODE:-0}" = 1 ] && decode=(--decode)
$bin bench --sink "${decode[@]}" --listen "$listen" >"$out" &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 50); do grep -q listening "$out" && break; sleep 0.1; done
kill -0 $pid 2>/dev/null || { echo "the sink did not start" >&2 && exit 1; }

$bin bench --endpoint "http://$listen" --pid "$pid" "$@"

kill $pid
wait $pid || true
grep -E "received|decoded" "$out"
