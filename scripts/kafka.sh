#!/usr/bin/env bash
# A Kafka-protocol broker for the tests and demos: tansu, in memory, on 127.0.0.1:9092.
#
# Idempotent: installs tansu (a ~15-20 minute build on 2 cores, once; it lands in
# ~/.cargo/bin) only when it is missing, starts it only when nothing answers on the
# port, then waits until the port answers. The broker keeps running after the script
# exits (log: ${TANSU_LOG:-/tmp/tansu.log}); it holds topics in memory, so a restart
# starts empty. Tests create their own uniquely named topics (tansu does not
# auto-create them).
#
#   scripts/kafka.sh            # then: cargo test --test kafka
set -euo pipefail

host=127.0.0.1
port=9092
log=${TANSU_LOG:-/tmp/tansu.log}
export PATH="$HOME/.cargo/bin:$PATH"

answers() { (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; }

if answers; then
    echo "kafka.sh: a broker already answers on $host:$port"
    exit 0
fi

if ! command -v tansu >/dev/null 2>&1; then
    echo "kafka.sh: installing tansu (cargo install tansu --features dynostore --locked)"
    cargo install tansu --features dynostore --locked
fi

echo "kafka.sh: starting tansu on $host:$port (log: $log)"
nohup tansu broker \
    --listener-url "tcp://$host:$port" \
    --advertised-listener-url "tcp://$host:$port" \
    --storage-engine memory://tansu/ >"$log" 2>&1 &

for _ in $(seq 100); do
    if answers; then
        echo "kafka.sh: broker ready on $host:$port"
        exit 0
    fi
    sleep 0.2
done
echo "kafka.sh: tansu did not answer on $host:$port within 20s; its log:" >&2
tail -n 50 "$log" >&2
exit 1
