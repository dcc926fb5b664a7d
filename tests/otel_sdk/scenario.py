"""Real-SDK test scenario for driftd.

Uses the actual OpenTelemetry Python SDK and OTLP exporters (gRPC or HTTP) to
send metrics from two services in one process to a collector:

  {prefix}-stable   latency ~ log-normal around 100 ms for the whole run
  {prefix}-stepped  same, but latency doubles (median 200 ms) from --step-at on,
                    and is back to normal from --recover-at on (if given)

Both record a histogram `http.server.duration` (ms) and a counter
`http.server.requests` with http.route="/checkout", at the same request rate.
driftd must raise no drift for the stable service and must raise drift for
the stepped one. Prints a one-line JSON summary; exits 1 if any export failed.
"""
import argparse
import json
import math
import random
import sys
import time

from opentelemetry.sdk.metrics import (
    Counter, Histogram, MeterProvider, ObservableCounter,
    ObservableUpDownCounter, UpDownCounter,
)
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality, MetricExportResult, PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource

ROUTE = {"http.route": "/checkout"}


def make_exporter(args, stats):
    temporality = {
        "cumulative": AggregationTemporality.CUMULATIVE,
        "delta": AggregationTemporality.DELTA,
    }[args.temporality]
    preferred = {k: temporality for k in (
        Counter, UpDownCounter, Histogram, ObservableCounter, ObservableUpDownCounter)}
    if args.protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
        tls = {"insecure": True}
        if args.ca_file:
            import grpc
            read = lambda path: open(path, "rb").read() if path else None
            tls = {"insecure": False, "credentials": grpc.ssl_channel_credentials(
                root_certificates=read(args.ca_file), private_key=read(args.client_key),
                certificate_chain=read(args.client_cert))}
        exporter = OTLPMetricExporter(endpoint=args.endpoint, preferred_temporality=preferred,
                                      **tls)
    else:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        exporter = OTLPMetricExporter(endpoint=args.endpoint.rstrip("/") + "/v1/metrics",
                                      certificate_file=args.ca_file or None,
                                      client_certificate_file=args.client_cert,
                                      client_key_file=args.client_key,
                                      preferred_temporality=preferred)

    inner = exporter.export

    def counting_export(metrics_data, *a, **kw):
        try:
            result = inner(metrics_data, *a, **kw)
        except Exception:
            stats["exports_failed"] += 1
            raise
        key = "exports_ok" if result == MetricExportResult.SUCCESS else "exports_failed"
        stats[key] += 1
        return result

    exporter.export = counting_export
    return exporter


def make_service(name, args, seed):
    stats = {"requests": 0, "exports_ok": 0, "exports_failed": 0}
    reader = PeriodicExportingMetricReader(make_exporter(args, stats),
                                           export_interval_millis=args.interval_ms)
    provider = MeterProvider(resource=Resource.create({"service.name": name}),
                             metric_readers=[reader])
    meter = provider.get_meter("driftd-scenario")
    return {
        "name": name, "stats": stats, "provider": provider, "rng": random.Random(seed),
        "hist": meter.create_histogram("http.server.duration", unit="ms"),
        "count": meter.create_counter("http.server.requests", unit="{request}"),
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--endpoint", default="http://127.0.0.1:4317")
    p.add_argument("--protocol", choices=["grpc", "http"], default="grpc")
    p.add_argument("--temporality", choices=["cumulative", "delta"], default="cumulative")
    p.add_argument("--duration", type=float, default=200.0)
    p.add_argument("--step-at", type=float, default=120.0)
    p.add_argument("--recover-at", type=float, default=math.inf)
    p.add_argument("--prefix", default="svc")
    p.add_argument("--interval-ms", type=int, default=1000)
    p.add_argument("--rate", type=float, default=50.0, help="requests/s per service")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--ca-file", help="trust this CA (PEM): the endpoint serves TLS")
    p.add_argument("--client-cert", help="present this certificate (PEM; mTLS)")
    p.add_argument("--client-key", help="the client certificate's key (PEM)")
    args = p.parse_args()

    stable = make_service(f"{args.prefix}-stable", args, args.seed)
    stepped = make_service(f"{args.prefix}-stepped", args, args.seed + 1)

    start = time.monotonic()
    tick = 1.0 / args.rate
    i = 0
    while (elapsed := time.monotonic() - start) < args.duration:
        for svc in (stable, stepped):
            stepped_now = args.step_at <= elapsed < args.recover_at
            factor = 2.0 if svc is stepped and stepped_now else 1.0
            latency = factor * svc["rng"].lognormvariate(math.log(100.0), 0.25)
            svc["hist"].record(latency, ROUTE)
            svc["count"].add(1, ROUTE)
            svc["stats"]["requests"] += 1
        i += 1
        time.sleep(max(0.0, start + i * tick - time.monotonic()))

    for svc in (stable, stepped):
        svc["provider"].shutdown()  # flushes the final collection

    failed = sum(s["stats"]["exports_failed"] for s in (stable, stepped))
    summary = {
        "protocol": args.protocol, "temporality": args.temporality,
        "endpoint": args.endpoint, "elapsed_s": round(time.monotonic() - start, 1),
        "requests": sum(s["stats"]["requests"] for s in (stable, stepped)),
        "exports_ok": sum(s["stats"]["exports_ok"] for s in (stable, stepped)),
        "exports_failed": failed,
        "services": {s["name"]: s["stats"] for s in (stable, stepped)},
    }
    print(json.dumps(summary), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
