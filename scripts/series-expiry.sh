#!/usr/bin/env bash
# Series expiry gives memory back: the release binary on the default config with
# `series_ttl` shortened to TTL, SERIES distinct series sent once (OTLP/gRPC, `driftd
# simulate`), then nothing. Prints VmRSS and the tracked series when loaded and once the
# TTL (plus one sweep) has passed, and 15 s later (jemalloc returns freed pages to the
# system over 10 s); then loads SERIES series again (new to the table) and
# waits them out again, to show that churn reuses the freed memory instead of growing.
#
#   scripts/series-expiry.sh [SERIES (1000000)] [TTL seconds (20)]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-target.sh
series=${1:-1000000}
ttl=${2:-20}
cargo build --release --quiet --bin driftd
bin=./target/release/driftd
config=$(mktemp --suffix .yaml)
$bin default-config | sed "s/series_ttl: 1h/series_ttl: ${ttl}s/" >"$config"
grep -q "series_ttl: ${ttl}s" "$config"
RUST_LOG=warn $bin --config "$config" &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$config"' EXIT
for _ in $(seq 50); do curl -sf "$DRIFTD_API_ENDPOINT/health" >/dev/null && break; sleep 0.1; done

mib() { echo $(( $(awk -v k="$1:" '$1 == k {print $2}' "/proc/$pid/status") / 1024 )); }
tracked() { curl -s "$DRIFTD_API_ENDPOINT/v1/system/status" | sed -n 's/.*"series_tracked":\([0-9]*\).*/\1/p'; }
expired() { curl -s "$DRIFTD_PROMETHEUS_ENDPOINT/metrics" | awk '/^driftd_processor_expired_series_total/ {print $2}'; }

load() {
    $bin simulate --target "otlp-grpc://$DRIFTD_OTLP_GRPC_ENDPOINT" --series "$series" --samples 1 --rate max --duration 1h \
        --concurrency $(( (series + 9999) / 10000 )) --truth /dev/null 2>&1 | tail -1
    echo "loaded: $(tracked) series tracked, VmRSS $(mib VmRSS) MiB"
}
wait_out() {
    local sweep=$(( ttl / 10 > 1 ? ttl / 10 : 1 ))
    for _ in $(seq $(( ttl + 3 * sweep + 10 ))); do
        sleep 1
        [ "$(tracked)" = 0 ] && break
    done
    sleep 1
    echo "after the TTL: $(tracked) series tracked, $(expired) expired in all, VmRSS $(mib VmRSS) MiB (peak $(mib VmHWM) MiB)"
    # jemalloc's background thread returns freed pages over its 10 s decay.
    sleep 15
    echo "15 s later: VmRSS $(mib VmRSS) MiB"
}

echo "idle: VmRSS $(mib VmRSS) MiB"
load
wait_out
load
wait_out
