#!/usr/bin/env bash
# Series scale, through the release binary with the default config:
#   1. SCRAPE_SERIES series past their warm-up (101 points each, so every per-series
#      gauge is rendered), then the Prometheus scrape timed with curl;
#   2. SERIES distinct series in all (one more point each), then driftd's resident
#      memory (VmRSS, peak VmHWM) and the memory each series costs above the idle process.
#
#   scripts/series-scale.sh [SERIES (1000000)] [SCRAPE_SERIES (100000)]
#
# CONFIG=FILE runs driftd on FILE instead of the embedded default.
#
# Points are sent over OTLP/gRPC by `driftd simulate` (series `sim-0` ... with the
# `service.name` resource label, metric `latency_ms`), 10,000 series per request.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-target.sh
series=${1:-1000000}
scrape_series=${2:-100000}
cargo build --release --quiet --bin driftd
bin=./target/release/driftd
RUST_LOG=warn $bin ${CONFIG:+--config "$CONFIG"} &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf "$DRIFTD_API_ENDPOINT/health" >/dev/null && break; sleep 0.1; done

kib() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$pid/status"; }
tracked() { curl -s "$DRIFTD_API_ENDPOINT/v1/system/status" | sed -n 's/.*"series_tracked":\([0-9]*\).*/\1/p'; }
simulate() { # SERIES SAMPLES
    $bin simulate --target "otlp-grpc://$DRIFTD_OTLP_GRPC_ENDPOINT" --series "$1" --samples "$2" --rate max --duration 1h \
        --concurrency $(( ($1 + 9999) / 10000 )) --truth /dev/null 2>&1 | tail -1
}
# Times N scrapes (after one to warm up); prints each and the median.
scrapes() {
    curl -s -o /dev/null "$DRIFTD_PROMETHEUS_ENDPOINT/metrics"
    for _ in $(seq "$1"); do
        curl -s -o /dev/null -w '%{time_total} %{size_download}\n' "$DRIFTD_PROMETHEUS_ENDPOINT/metrics"
    done | sort -n | awk '{t[NR] = $1; b = $2} END {
        printf "scrape: median %.0f ms, slowest %.0f ms, fastest %.0f ms (%d scrapes, %.1f MB each)\n",
            t[int((NR + 1) / 2)] * 1000, t[NR] * 1000, t[1] * 1000, NR, b / 1e6 }'
}

idle=$(kib VmRSS)
echo "idle: VmRSS ${idle} KiB"

echo "== $scrape_series series, 101 points each"
simulate "$scrape_series" 101
echo "series tracked: $(tracked)"
scrapes 10

echo "== $series series, one more point each"
simulate "$series" 1
n=$(tracked)
rss=$(kib VmRSS)
hwm=$(kib VmHWM)
echo "series tracked: $n"
echo "VmRSS: $((rss / 1024)) MiB, VmHWM (peak): $((hwm / 1024)) MiB"
echo "per series (VmRSS above idle): $(( (rss - idle) * 1024 / n )) bytes"
scrapes 3
echo "VmHWM after the scrapes (peak): $(( $(kib VmHWM) / 1024 )) MiB"
