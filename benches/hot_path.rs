//! The OTLP hot path per point: decode an encoded request in place, look each series
//! up in the drift processor's table, update its baseline and detector. Requests of
//! 1,000 points; series already known (the steady state). `otlp_decode` is the first
//! step alone, on the same requests.
//!
//!     cargo bench --bench hot_path

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

/// Request `round` of a stream over `series` series, with the offsets of its points'
/// timestamps: each request carries the next 1,000 series (one point each), as a
/// sender batching many series does. Series `s` is metric `http_latency` of service
/// `svc-{s / 100}` with label `route=/r{s}`.
fn request(series: usize, round: usize) -> Request {
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
                                time_unix_nano: time(i, series),
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
    let bytes = ExportMetricsServiceRequest { resource_metrics }.encode_to_vec();
    // Each timestamp is a fixed64 field 3 (key 0x19): find them to move them later.
    let times = (first..first + POINTS)
        .map(|i| {
            let field = [&[0x19][..], &time(i, series).to_le_bytes()].concat();
            bytes
                .windows(9)
                .position(|w| w == field.as_slice())
                .expect("encoded time")
                + 1
        })
        .collect();
    Request { bytes, times }
}

/// The time of the `i`th point of the stream: one point per series per second.
fn time(i: usize, series: usize) -> u64 {
    1_700_000_000_000_000_000 + (i / series) as u64 * 1_000_000_000
}

/// An encoded request and where its timestamps are.
struct Request {
    bytes: Vec<u8>,
    times: Vec<usize>,
}

impl Request {
    /// Moves every timestamp `by` nanoseconds later, in place.
    fn advance(&mut self, by: u64) {
        for &at in &self.times {
            let t = u64::from_le_bytes(self.bytes[at..at + 8].try_into().expect("8 bytes")) + by;
            self.bytes[at..at + 8].copy_from_slice(&t.to_le_bytes());
        }
    }
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
    for series in [300usize, 100_000, 1_000_000] {
        let processor = DriftProcessor::new("drift", DriftConfig::default(), Arc::new(Discard));
        // A ring of pre-encoded requests covering every series at least twice; the
        // first lap registers the series, the timed laps see them known. A request's
        // timestamps move one lap on each use, so every point is in order and judged
        // (the move is 1,000 in-place writes, noise next to the work measured).
        let rounds = (2 * series).div_ceil(POINTS);
        let lap = time(rounds * POINTS, series) - time(0, series);
        let mut requests: Vec<Request> = (0..rounds).map(|r| request(series, r)).collect();
        let (mut points, mut origins) = (Vec::new(), Vec::new());
        for r in &mut requests {
            ingest(&r.bytes, &processor, &mut points, &mut origins);
            r.advance(lap);
        }
        let mut next = 0;
        group.bench_function(format!("{series}_series"), |b| {
            b.iter(|| {
                let r = &mut requests[next % rounds];
                ingest(&r.bytes, &processor, &mut points, &mut origins);
                r.advance(lap);
                next += 1;
            })
        });
    }
    group.finish();
}

fn decode_only(c: &mut Criterion) {
    let mut group = c.benchmark_group("otlp_decode");
    group.throughput(Throughput::Elements(POINTS as u64));
    let identity = IdentityConfig::default();
    let request = request(100_000, 0);
    let (mut points, mut origins) = (Vec::new(), Vec::new());
    group.bench_function("1000_resources", |b| {
        b.iter(|| {
            points.clear();
            origins.clear();
            decode(&request.bytes, &identity, &mut points, &mut origins).expect("a valid request")
        })
    });
    group.finish();
}

criterion_group!(benches, hot_path, decode_only);
criterion_main!(benches);
