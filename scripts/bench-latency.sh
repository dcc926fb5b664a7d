#!/usr/bin/env bash
# Ack→event latency under load: scripts/bench-otlp-grpc.sh with the probe on. While
# the load runs, each of N probe series gets a stable warm-up, then a +50σ step in one
# request; from its acknowledgement the query API (/v1/events) is polled until the
# series' drift_start shows. Prints p50/p99/max over the probes (issue #6: p99 ≤ 10 ms).
#
#   scripts/bench-latency.sh [--probe-steps 200] [--rate 100000] [other driftd bench arguments]
#
# BENCH_PROTOCOL=http probes over OTLP/HTTP.
set -euo pipefail
exec "$(dirname "$0")/bench-otlp-grpc.sh" --probe-steps 200 "$@"
