#!/usr/bin/env bash
# Replay throughput: `driftd replay` over a 1,000,000-line CSV of 1,000 series.
#
# The data is generated once, deterministically (a fixed LCG), into $DRIFTD_BENCH_DIR
# (default /tmp/driftd-bench-replay): `timestamp,metric,host,value`, RFC 3339 times
# 10 s apart, 1,000 hosts of latency_ms around 100 ± 1, every tenth host stepping up by
# 5 at round 600 so the run raises events too. The processors are those of the
# embedded default config unless DRIFTD_BENCH_CONFIG names another config file.
#
# Prints driftd's own figure (points / time from build to last event written, as
# the replay summary reports it) for each run, and hyperfine's whole-process timing
# when hyperfine is installed (Debian: apt-get install hyperfine).
set -euo pipefail
cd "$(dirname "$0")/.."

dir=${DRIFTD_BENCH_DIR:-/tmp/driftd-bench-replay}
runs=${DRIFTD_BENCH_RUNS:-5}
input=$dir/replay-1m.csv
output=$dir/events.jsonl
mkdir -p "$dir"

if [ ! -s "$input" ]; then
  echo "generating $input" >&2
  awk 'BEGIN {
    x = 42
    print "timestamp,metric,host,value"
    for (round = 0; round < 1000; round++) {
      t = round * 10
      stamp = sprintf("2024-01-01T%02d:%02d:%02dZ", int(t / 3600), int(t % 3600 / 60), t % 60)
      for (s = 0; s < 1000; s++) {
        noise = 0
        for (k = 0; k < 3; k++) {
          x = (1664525 * x + 1013904223) % 4294967296
          noise += x / 4294967296
        }
        value = 100 + (noise - 1.5) * 2 + ((s % 10 == 0 && round >= 600) ? 5 : 0)
        printf "%s,latency_ms,host-%04d,%.3f\n", stamp, s, value
      }
    }
  }' > "$input.tmp"
  mv "$input.tmp" "$input"
fi
lines=$(($(wc -l < "$input") - 1))

cargo build --release --bin driftd >&2
bin=target/release/driftd
config_args=()
if [ -n "${DRIFTD_BENCH_CONFIG:-}" ]; then
  config_args=(--config "$DRIFTD_BENCH_CONFIG")
fi

echo "driftd replay: $lines points of 1000 series ($input), $runs runs"
rates=()
for _ in $(seq "$runs"); do
  summary=$("$bin" replay "${config_args[@]}" --input "$input" --output "$output" 2>&1 >/dev/null)
  rate=$(printf '%s\n' "$summary" | awk '/^  rate:/ {print $2}')
  events=$(printf '%s\n' "$summary" | awk '/^  events:/ {print $2}')
  echo "  run: $rate points/s ($events events)"
  rates+=("$rate")
done
median=$(printf '%s\n' "${rates[@]}" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
echo "median (driftd's own timing): $median points/s"

if command -v hyperfine > /dev/null; then
  json=$dir/hyperfine.json
  hyperfine --warmup 1 --runs "$runs" --export-json "$json" \
    "$bin replay ${config_args[*]} --input $input --output $output" >&2
  mean=$(awk -F': ' '/"mean"/ {gsub(/,/, "", $2); print $2; exit}' "$json")
  awk -v n="$lines" -v s="$mean" 'BEGIN {printf "whole process (hyperfine mean %.3f s, incl. start-up): %.0f points/s\n", s, n / s}'
else
  echo "(hyperfine not installed: whole-process timing skipped)"
fi
