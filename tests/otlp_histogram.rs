//! End to end over real sockets: OTLP/gRPC histograms whose latency distribution
//! shifts are found by the `histogram` detector, and their p99 series by `auto`.

mod common;

use common::otlp::{SECOND, T0};
use common::{drift_events, eventually, Driftd, TEST_CONFIG};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{
    metric, AggregationTemporality, Histogram, HistogramDataPoint, Metric, ResourceMetrics, ScopeMetrics,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, LogNormal};
use std::time::Duration;

/// Bucket bounds in milliseconds, as an HTTP server's latency histogram has them.
const BOUNDS: [f64; 12] = [
    5.0, 10.0, 25.0, 50.0, 75.0, 100.0, 250.0, 500.0, 750.0, 1000.0, 2500.0, 5000.0,
];
/// Requests observed per one-second interval.
const PER_SECOND: usize = 300;

/// One delta histogram point of `rpc_latency_ms` at second `i`: `PER_SECOND`
/// latencies drawn from `latency`.
fn request(i: u64, latency: &LogNormal<f64>, rng: &mut StdRng) -> ExportMetricsServiceRequest {
    let mut counts = vec![0u64; BOUNDS.len() + 1];
    let mut sum = 0.0;
    for _ in 0..PER_SECOND {
        let ms = latency.sample(rng);
        sum += ms;
        counts[BOUNDS.partition_point(|b| *b < ms)] += 1;
    }
    let point = HistogramDataPoint {
        start_time_unix_nano: T0 + (i - 1) * SECOND,
        time_unix_nano: T0 + i * SECOND,
        count: PER_SECOND as u64,
        sum: Some(sum),
        bucket_counts: counts,
        explicit_bounds: BOUNDS.to_vec(),
        ..Default::default()
    };
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![KeyValue {
                    key: "service.name".into(),
                    value: Some(AnyValue {
                        value: Some(any_value::Value::StringValue("checkout".into())),
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![Metric {
                    name: "rpc_latency_ms".into(),
                    data: Some(metric::Data::Histogram(Histogram {
                        data_points: vec![point],
                        aggregation_temporality: AggregationTemporality::Delta as i32,
                    })),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

#[tokio::test]
async fn a_latency_distribution_shift_is_found_with_its_quantiles() {
    let d = Driftd::start(TEST_CONFIG);
    let api = d.url("api");
    let mut client = MetricsServiceClient::connect(d.url("otlp/grpc"))
        .await
        .expect("connect");
    let mut rng = StdRng::seed_from_u64(11);
    // Median 80 ms, then 240 ms: the same traffic, three times slower.
    let normal = LogNormal::new(80f64.ln(), 0.5).unwrap();
    let slow = LogNormal::new(240f64.ln(), 0.5).unwrap();
    const SHIFT_AT: u64 = 400;
    for i in 1..SHIFT_AT {
        client.export(request(i, &normal, &mut rng)).await.expect("export");
    }
    assert!(
        drift_events(&api, "drift_start").await.is_empty(),
        "no drift while stable"
    );
    for i in SHIFT_AT..SHIFT_AT + 20 {
        client.export(request(i, &slow, &mut rng)).await.expect("export");
    }
    let starts = eventually(Duration::from_secs(10), "drift_start events", || async {
        let e = drift_events(&api, "drift_start").await;
        (e.len() >= 2).then_some(e)
    })
    .await;
    let of = |metric: &str| {
        starts
            .iter()
            .find(|e| e["series"]["metric"] == metric)
            .unwrap_or_else(|| panic!("no drift_start of {metric}: {starts:?}"))
    };
    let distribution = of("rpc_latency_ms");
    assert_eq!(distribution["detector"], "histogram", "{distribution}");
    assert!(distribution["scores"]["psi"].as_f64().unwrap() > 0.25, "{distribution}");
    let fired_at = (humantime::parse_rfc3339(distribution["timestamp"].as_str().unwrap())
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        - T0)
        / SECOND;
    assert!(
        (SHIFT_AT..SHIFT_AT + 10).contains(&fired_at),
        "fired at second {fired_at}"
    );
    assert_eq!(of("rpc_latency_ms_p99")["detector"], "auto");
}
