#!/usr/bin/env bash
# Runs every fuzz target in fuzz/ (one per parser of untrusted bytes) for a few
# seconds each with libFuzzer, as the test command does; a crash fails the script and
# leaves its input in fuzz/artifacts/<target>/. Installs cargo-fuzz when it is missing
# (a few minutes, once). cargo-fuzz wants nightly flags; RUSTC_BOOTSTRAP lets the one
# stable toolchain here take them.
#
#   bash scripts/fuzz.sh            # 20 s per target
#   bash scripts/fuzz.sh 300        # longer, when working on a parser
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds=${1:-20}
export PATH="$HOME/.cargo/bin:$PATH"
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi
export RUSTC_BOOTSTRAP=1
targets=$(cargo fuzz list)
echo "fuzz: building $(echo "$targets" | wc -l) targets"
cargo fuzz build 2>&1 | tail -n 3
for target in $targets; do
  echo "fuzz: $target for ${seconds}s"
  log=$(mktemp)
  status=0
  cargo fuzz run "$target" -- -max_total_time="$seconds" -rss_limit_mb=4096 -print_final_stats=1 >"$log" 2>&1 \
    || status=$?
  grep -E "^(stat::number_of_executed_units|Done)" "$log" || true
  if [[ $status -ne 0 ]]; then
    tail -n 40 "$log" >&2
    echo "fuzz: $target failed; the input is in fuzz/artifacts/$target/" >&2
    exit 1
  fi
  rm -f "$log"
done
echo "fuzz: every target ran ${seconds}s without a crash"
