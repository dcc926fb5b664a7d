#!/usr/bin/env bash
# scripts/bench-otlp-grpc.sh over OTLP/HTTP: protobuf POST /v1/metrics, HTTP/1.1
# keep-alive, one connection per request in flight. Same arguments.
set -euo pipefail
BENCH_PROTOCOL=http exec "$(dirname "$0")/bench-otlp-grpc.sh" "$@"
