//! The OTLP hot path per point: decode an encoded request in place, look each series
//! up in the drift processor's table, update its baseline and detector. Requests of
//! 1,000 points; series already known (the steady state).
//!
//!     cargo bench -p driftd-processors --bench hot_path

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use driftd_core::consumer::Discard;
use driftd_core::{Batch, Consumer, Point};
use driftd_processors::drift::{DriftConfig, DriftProcessor};
use driftd_receivers::otlp::{decode, IdentityConfig, Origin, RequestLabels};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{
    metric, number_data_point, Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;
use std::sync::Arc;

const POINTS: usize = 1000;

fn text(key: &str, value: String) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value)),
        }),
        ..Default::default()
    }
}

/// Request `round` of a stream over `series` series: each request carries the next
/// 1,000 series (one point each), as a sender batching many series does. Series `s`
/// is metric `http_latency` of service `svc-{s / 100}` with label `route=/r{s}`.
fn request(series: usize, round: usize) -> Vec<u8> {
    let first = round * POINTS;
    let resource_metrics = (first..first + POINTS)
        .map(|i| {
            let s = i % series;
            ResourceMetrics {
                resource: Some(Resource {
                    attributes: vec![text("service.name", format!("svc-{}", s / 100))],
                    ..Default::default()
                }),
                scope_metrics: vec![ScopeMetrics {
                    metrics: vec![Metric {
                        name: "http_latency".into(),
                        data: Some(metric::Data::Gauge(Gauge {
                            data_points: vec![NumberDataPoint {
                                attributes: vec![text("route", format!("/r{s}"))],
                                time_unix_nano: 1_700_000_000_000_000_000 + (i / series) as u64 * 1_000_000_000,
                                value: Some(number_data_point::Value::AsDouble(100.0 + (i % 7) as f64)),
                                ..Default::default()
                            }],
                        })),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }
        })
        .collect();
    ExportMetricsServiceRequest { resource_metrics }.encode_to_vec()
}

/// Decodes `request` and feeds it through `processor`, as the OTLP receiver does.
fn ingest(request: &[u8], processor: &DriftProcessor, points: &mut Vec<Point>, origins: &mut Vec<Origin>) {
    let identity = IdentityConfig::default();
    points.clear();
    origins.clear();
    decode(request, &identity, points, origins).expect("a valid request");
    let labels = RequestLabels::new(request, origins, &identity);
    processor.consume(&Batch::new(points, &labels)).expect("taken");
}

fn hot_path(c: &mut Criterion) {
    let mut group = c.benchmark_group("otlp_decode_lookup_update");
    group.throughput(Throughput::Elements(POINTS as u64));
    for series in [300, 100_000, 1_000_000] {
        let processor = DriftProcessor::new("drift", DriftConfig::default(), Arc::new(Discard));
        // A ring of pre-encoded requests covering every series several times; the
        // first lap registers the series, the timed laps see them known.
        let rounds = (series / POINTS).max(1) * 2;
        let requests: Vec<Vec<u8>> = (0..rounds).map(|r| request(series, r)).collect();
        let (mut points, mut origins) = (Vec::new(), Vec::new());
        for r in &requests {
            ingest(r, &processor, &mut points, &mut origins);
        }
        let mut next = 0;
        group.bench_function(format!("{series}_series"), |b| {
            b.iter(|| {
                ingest(&requests[next % rounds], &processor, &mut points, &mut origins);
                next += 1;
            })
        });
    }
    group.finish();
}

criterion_group!(benches, hot_path);
criterion_main!(benches);
