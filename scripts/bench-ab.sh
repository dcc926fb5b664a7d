#!/usr/bin/env bash
# Two driftd builds side by side under the same OTLP load, alternated run by run, so a
# machine whose speed drifts (shared hosts do, by 10 % and more within minutes) weighs
# on both alike. Each run starts the build on its default config, loads it with
# `driftd bench` for the given time, and prints points/s and points per driftd
# CPU-second; ROUNDS rounds of A then B. OTLP/gRPC; BENCH_PROTOCOL=http for OTLP/HTTP.
#
#   scripts/bench-ab.sh OLD_BINARY NEW_BINARY [ROUNDS (3)] -- [driftd bench arguments]
#
# For example, this tree against an earlier commit:
#   git worktree add /tmp/driftd-old <commit> && (cd /tmp/driftd-old && cargo build --release)
#   cargo build --release
#   scripts/bench-ab.sh /tmp/driftd-old/target/release/driftd target/release/driftd 3 -- --series 100000 --duration 10s
#
# One build on two configs: A_CONFIG / B_CONFIG give each side a config file instead
# of the embedded default (the same binary may be given twice).
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,17p' "$0" >&2 && exit 2; }
a=$(realpath "$1") b=$(realpath "$2")
shift 2
rounds=3
if [ $# -gt 0 ] && [ "$1" != -- ]; then rounds=$1 && shift; fi
[ "${1:-}" = -- ] && shift
cd "$(dirname "$0")/.."
source scripts/bench-target.sh

run() {
  local bin=$1 config=$2 pid out
  shift 2
  RUST_LOG=warn "$bin" ${config:+--config "$config"} >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 50); do curl -sf "$DRIFTD_API_ENDPOINT/health" >/dev/null && break; sleep 0.1; done
  # The newer build's load tool drives both, so the load is the same.
  out=$("$b" bench --protocol "$protocol" --endpoint "$endpoint" --pid "$pid" "$@" 2>&1) || true
  kill "$pid" && wait "$pid" 2>/dev/null || true
  local rate cpu
  rate=$(sed -n 's/^sent .*: \([0-9]*\) points\/s.*/\1/p' <<<"$out")
  cpu=$(sed -n 's/^target .*, \([0-9]*\) points per CPU-second.*/\1/p' <<<"$out")
  echo "$bin${config:+ ($config)}: ${rate:-?} points/s, ${cpu:-?} points per driftd CPU-second"
}

for r in $(seq "$rounds"); do
  echo "round $r"
  run "$a" "${A_CONFIG:-}" "$@"
  run "$b" "${B_CONFIG:-}" "$@"
done
