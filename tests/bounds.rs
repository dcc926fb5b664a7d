//! Points outside the bounds every receiver holds them to (`driftd_core::bounds`) are
//! refused with the reason and counted, and do not poison anything: a point stamped in
//! the year 2250 or 2300 and a value of 1e300, sent over OTLP/gRPC and the HTTP JSON
//! API, are refused; the series they were meant for goes on learning from its correct
//! points, checkpoints to SQLite keep committing, and a restart restores them.

mod common;

use common::otlp::{latency_request, latency_request_at};
use common::{get_json, prometheus_sum, Driftd, TempDir};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use serde_json::json;
use std::time::Duration;

/// 2250-01-01T00:00:00Z and 2300-01-01T00:00:00Z (the second past what a signed
/// 64-bit nanosecond column holds), in nanoseconds since the epoch.
const YEAR_2250: u64 = 8_835_955_200_000_000_000;
const YEAR_2300: u64 = 10_413_792_000_000_000_000;
const SERVICE: &str = "steady";

fn config(path: &std::path::Path) -> String {
    format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:0
  http_json:
    endpoint: 127.0.0.1:0
processors:
  drift:
    checkpoint_interval: 1s
exporters:
  api:
    endpoint: 127.0.0.1:0
  prometheus:
    endpoint: 127.0.0.1:0
  storage: {{}}
storage: {{backend: sqlite, retention: 3650d, path: "{}"}}
service:
  pipelines:
    metrics:
      receivers: [otlp, http_json]
      processors: [drift]
      exporters: [api, prometheus, storage]
"#,
        path.display()
    )
}

/// Sends `request` and returns its refused points and the reason given.
async fn refused(
    client: &mut MetricsServiceClient<tonic::transport::Channel>,
    request: ExportMetricsServiceRequest,
) -> (i64, String) {
    let answer = client.export(request).await.expect("export").into_inner();
    let partial = answer.partial_success.unwrap_or_default();
    (partial.rejected_data_points, partial.error_message)
}

async fn sample_count(api: &str) -> serde_json::Value {
    let (status, health) = get_json(&format!("{api}/v1/health/{SERVICE}")).await;
    assert_eq!(status, 200, "{health}");
    health["sample_count"].clone()
}

#[tokio::test]
async fn far_future_times_and_huge_values_are_refused_and_poison_nothing() {
    let dir = TempDir::new("bounds");
    let config = config(&dir.0.join("driftd.db"));
    let mut d = Driftd::start(&config);
    let mut client = MetricsServiceClient::connect(d.url("otlp/grpc"))
        .await
        .expect("connect");
    let send = |i: u64| latency_request(&[SERVICE], i, &[100.0 + (i % 7) as f64]);
    for i in 0..50 {
        assert_eq!(refused(&mut client, send(i)).await.0, 0);
    }

    for year in [YEAR_2250, YEAR_2300] {
        let (n, why) = refused(&mut client, latency_request_at(&[SERVICE], year, &[100.0])).await;
        assert_eq!(n, 1, "{why}");
        assert!(
            why.contains("time is more than 10 minutes ahead of the receiver's clock"),
            "{why}"
        );
    }
    let (n, why) = refused(&mut client, latency_request(&[SERVICE], 50, &[1e300])).await;
    assert_eq!(n, 1, "{why}");
    assert!(why.contains("value is beyond ±1e100"), "{why}");

    // The HTTP JSON API refuses them as it does any invalid point (422), naming the
    // field and the bound.
    let http = reqwest::Client::new();
    for (body, says) in [
        (
            json!({"metric": "latency_ms", "value": 1.0, "timestamp": "2250-01-01T00:00:00Z", "labels": {"service.name": SERVICE}}),
            "timestamp 2250-01-01T00:00:00",
        ),
        (
            json!({"metric": "latency_ms", "value": 1e300, "labels": {"service.name": SERVICE}}),
            "value 1e300: value is beyond ±1e100",
        ),
    ] {
        let r = http
            .post(format!("{}/v1/points", d.url("http_json")))
            .json(&body)
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 422);
        let text = r.text().await.expect("body");
        assert!(text.contains(says), "{text}");
    }

    // The series goes on learning from its correct points: none is taken as out of order.
    for i in 51..101 {
        assert_eq!(refused(&mut client, send(i)).await.0, 0);
    }
    let api = d.url("api");
    assert_eq!(sample_count(&api).await, 100);
    let prometheus = d.url("prometheus");
    for (receiver, n) in [("otlp", 3.0), ("http_json", 2.0)] {
        let label = format!("receiver=\"{receiver}\"");
        let counted = prometheus_sum(&prometheus, "driftd_receiver_refused_points_total", &[&label]).await;
        assert_eq!(counted, n, "{receiver}'s refusals are counted");
    }

    // Checkpoints commit (a refused row would fail every round) and come back.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let status = d.stop();
    assert!(status.success(), "clean exit: {status}\n{}", d.logs());
    assert!(!d.logs().contains("cannot save checkpoints"), "{}", d.logs());
    let again = Driftd::start(&config);
    assert!(
        again.logs().contains("restored detector checkpoints"),
        "{}",
        again.logs()
    );
    assert_eq!(sample_count(&again.url("api")).await, 100);
}
