//! OTLP requests for end-to-end tests.

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{
    metric, number_data_point, Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics,
};
use opentelemetry_proto::tonic::resource::v1::Resource;

/// 2026-01-01T00:00:00Z
pub const T0: u64 = 1_767_225_600_000_000_000;
/// Samples are one second apart.
pub const SECOND: u64 = 1_000_000_000;

/// One request with a `latency_ms` point per service, at sample index `i`.
pub fn latency_request(services: &[&str], i: u64, values: &[f64]) -> ExportMetricsServiceRequest {
    latency_request_at(services, T0 + i * SECOND, values)
}

/// One request with a `latency_ms` point per service, at `time_unix_nano`.
pub fn latency_request_at(services: &[&str], time_unix_nano: u64, values: &[f64]) -> ExportMetricsServiceRequest {
    let resource_metrics = services
        .iter()
        .zip(values)
        .map(|(svc, v)| ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![KeyValue {
                    key: "service.name".into(),
                    value: Some(AnyValue {
                        value: Some(any_value::Value::StringValue(svc.to_string())),
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![Metric {
                    name: "latency_ms".into(),
                    data: Some(metric::Data::Gauge(Gauge {
                        data_points: vec![NumberDataPoint {
                            time_unix_nano,
                            value: Some(number_data_point::Value::AsDouble(*v)),
                            ..Default::default()
                        }],
                    })),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        })
        .collect();
    ExportMetricsServiceRequest { resource_metrics }
}

/// Sends 300 samples a second apart ending now over OTLP gRPC: every service at
/// 100 ± 5 ms, the first one at 160 from sample 240 (a drift_start and an incident).
pub async fn send_latency_step(d: &super::Driftd, services: &[&str]) {
    use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
    use rand::SeedableRng;
    use rand_distr::Distribution;
    const SAMPLES: u64 = 300;
    const STEP_AT: u64 = 240;
    let mut client = MetricsServiceClient::connect(d.url("otlp/grpc"))
        .await
        .expect("connect");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let start = now - SAMPLES * SECOND;
    let noise = rand_distr::Normal::new(0.0, 5.0).unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(15);
    for i in 0..SAMPLES {
        let values: Vec<f64> = (0..services.len())
            .map(|s| 100.0 + noise.sample(&mut rng) + if s == 0 && i >= STEP_AT { 60.0 } else { 0.0 })
            .collect();
        client
            .export(latency_request_at(services, start + i * SECOND, &values))
            .await
            .expect("export");
    }
}
