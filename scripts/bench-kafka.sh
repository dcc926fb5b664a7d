#!/usr/bin/env bash
# Kafka json events per second consumed end to end (broker -> kafka receiver -> drift
# processor), on this machine with the broker beside it. Produces N events first
# (`driftd simulate` to a new topic on the local tansu broker), then starts driftd
# (release) reading the topic from the beginning and times how long it takes until
# its accepted-points counter reaches N.
#
#   scripts/bench-kafka.sh [N] [SERIES]      # defaults: 500000 100
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-500000}
series=${2:-100}
scripts/kafka.sh
cargo build --release --quiet --bin driftd
bin=./target/release/driftd
topic=bench-json-$(date +%s%N)
samples=$(( n / series ))
n=$(( samples * series ))

echo "== producing $n events to $topic"
$bin simulate --target "kafka://127.0.0.1:9092/$topic" --create-topic 1 \
    --series "$series" --samples "$samples" --rate max --duration 1h --concurrency 1 >/dev/null

config=$(mktemp --suffix .yaml)
cat >"$config" <<YAML
receivers:
  kafka:
    brokers: ["127.0.0.1:9092"]
    topics: [$topic]
    group_id: bench-$topic
    initial_offset: earliest
    encoding: json
processors:
  drift: {}
exporters:
  prometheus:
    endpoint: 127.0.0.1:19464
service:
  pipelines:
    metrics:
      receivers: [kafka]
      processors: [drift]
      exporters: [prometheus]
YAML

echo "== consuming"
accepted() { curl -s localhost:19464/metrics | awk '/^driftd_receiver_accepted_points_total\{.*kafka/ {s += $2} END {print s + 0}'; }
now() { date +%s.%N; }
RUST_LOG=warn $bin --config "$config" &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$config"' EXIT
started=$(now)
first=""
while :; do
    got=$(accepted 2>/dev/null || echo 0)
    if [ -z "$first" ] && [ "${got%.*}" -gt 0 ]; then first=$(now); fi
    [ "${got%.*}" -ge "$n" ] && break
    sleep 0.05
done
done_at=$(now)
cpu=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$pid/stat")
awk -v n="$n" -v s="$started" -v f="$first" -v d="$done_at" -v cpu="$cpu" 'BEGIN {
    printf "consumed %d events: %.2fs from the first accepted point (%.0f events/s), %.2fs including startup and joining the group; driftd CPU %.2fs\n", n, d - f, n / (d - f), d - s, cpu
}'
