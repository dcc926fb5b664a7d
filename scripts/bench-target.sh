# Sourced by the scripts that start a driftd to load: its listeners on ports of their
# own (set DRIFTD_*_ENDPOINT to run beside another driftd), the endpoint the load goes
# to for BENCH_PROTOCOL (grpc, the default, or http), and a refusal to start when
# something already answers on the API port.
protocol=${BENCH_PROTOCOL:-grpc}
export DRIFTD_OTLP_GRPC_ENDPOINT=${DRIFTD_OTLP_GRPC_ENDPOINT:-127.0.0.1:14317}
export DRIFTD_OTLP_HTTP_ENDPOINT=${DRIFTD_OTLP_HTTP_ENDPOINT:-127.0.0.1:14318}
export DRIFTD_PROMETHEUS_ENDPOINT=${DRIFTD_PROMETHEUS_ENDPOINT:-127.0.0.1:19464}
export DRIFTD_API_ENDPOINT=${DRIFTD_API_ENDPOINT:-127.0.0.1:18000}
case $protocol in
grpc) endpoint=http://$DRIFTD_OTLP_GRPC_ENDPOINT ;;
http) endpoint=http://$DRIFTD_OTLP_HTTP_ENDPOINT ;;
*) echo "BENCH_PROTOCOL must be grpc or http" >&2 && exit 2 ;;
esac
if curl -sf "$DRIFTD_API_ENDPOINT/health" >/dev/null; then
  echo "something already answers on $DRIFTD_API_ENDPOINT: set DRIFTD_*_ENDPOINT to free ports" >&2 && exit 1
fi
