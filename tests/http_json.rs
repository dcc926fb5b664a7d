//! The JSON API end to end, against the real binary over real sockets: a stable-then-step
//! series posted to `/v1/telemetry` is detected once and `/v1/health` on the same base
//! URL says so; every error case answers with its status and a message.

mod common;

use common::{drift_events, eventually, get_json, prometheus_sum, Driftd};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};
use serde_json::{json, Value};
use std::io::Write;
use std::time::Duration;

/// The JSON receiver and the query API on one (port 0) listener.
const CONFIG: &str = r#"
receivers:
  http_json:
    endpoint: 127.0.0.1:0
    max_request_body_size: 2048
processors:
  drift: {}
exporters:
  api:
    endpoint: 127.0.0.1:0
  prometheus:
    endpoint: 127.0.0.1:0
  storage: {}
service:
  pipelines:
    metrics:
      receivers: [http_json]
      processors: [drift]
      exporters: [api, prometheus, storage]
"#;

const SERVICES: [&str; 3] = ["checkout", "payments", "search"];
const STEPPED: &str = "payments";
const T0: u64 = 1_767_225_600; // 2026-01-01T00:00:00Z, in seconds
const MEAN: f64 = 120.0;
const SIGMA: f64 = 10.0;

fn timestamp(i: u64) -> String {
    let t = std::time::UNIX_EPOCH + Duration::from_secs(T0 + i);
    humantime::format_rfc3339_seconds(t).to_string()
}

async fn post(client: &reqwest::Client, url: &str, body: impl Into<reqwest::Body>) -> (u16, Value) {
    let r = client
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("post");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_step_posted_to_v1_telemetry_is_one_drift_and_v1_health_on_the_same_url_reports_it() {
    let d = Driftd::start(CONFIG);
    let base = d.url("http_json");
    assert_eq!(base, d.url("api"), "the receiver and the query API share one listener");
    let client = reqwest::Client::new();
    let url = format!("{base}/v1/telemetry");
    let mut rng = StdRng::seed_from_u64(17);
    let noise = Normal::new(0.0, SIGMA).unwrap();
    const STEP_AT: u64 = 200;
    for i in 0..STEP_AT + 30 {
        for svc in SERVICES {
            let step = if svc == STEPPED && i >= STEP_AT {
                8.0 * SIGMA
            } else {
                0.0
            };
            let body = json!({
                "service_id": svc,
                "latency_ms": MEAN + noise.sample(&mut rng) + step,
                "payload_kb": 2.0 + noise.sample(&mut rng) / 100.0,
                "timestamp": timestamp(i),
            });
            let (status, answer) = post(&client, &url, body.to_string()).await;
            assert_eq!(status, 202, "{answer}");
            if i == 0 {
                assert_eq!(answer["status"], "accepted");
                assert_eq!(answer["service_id"], svc);
                assert_eq!(answer["timestamp"], timestamp(0));
            }
        }
        if i == STEP_AT - 1 {
            let (_, h) = get_json(&format!("{base}/v1/health/{STEPPED}")).await;
            assert_eq!(h["state"], "STABLE", "{h}");
        }
    }
    let starts = eventually(Duration::from_secs(10), "a drift_start", || async {
        let e = drift_events(&base, "drift_start").await;
        (!e.is_empty()).then_some(e)
    })
    .await;
    // Give a second event, if there were one, the time to arrive.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let starts_again = drift_events(&base, "drift_start").await;
    assert_eq!(starts_again.len(), 1, "exactly one drift_start: {starts:?}");
    assert_eq!(starts[0]["series"]["labels"]["service.name"], STEPPED);
    assert_eq!(starts[0]["series"]["metric"], "latency_ms");
    let (status, health) = get_json(&format!("{base}/v1/health/{STEPPED}")).await;
    assert_eq!(status, 200);
    assert_eq!(health["state"], "DRIFT_DETECTED", "{health}");
    assert_eq!(health["sample_count"], STEP_AT + 30, "{health}");
    for calm in ["checkout", "search"] {
        let (_, h) = get_json(&format!("{base}/v1/health/{calm}")).await;
        assert_eq!(h["state"], "STABLE", "{calm}: {h}");
    }
    // payload_kb is a series of the service too.
    let (_, baselines) = get_json(&format!("{base}/v1/baseline/{STEPPED}")).await;
    let metrics: Vec<&str> = baselines["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["metric"].as_str().unwrap())
        .collect();
    assert_eq!(metrics, ["latency_ms", "payload_kb"]);
    let accepted = prometheus_sum(
        &d.url("prometheus"),
        "driftd_receiver_accepted_points_total",
        &["receiver=\"http_json\""],
    )
    .await;
    assert_eq!(accepted, (2 * 3 * (STEP_AT + 30)) as f64);
}

#[tokio::test]
async fn every_error_case_answers_with_its_status_and_a_message() {
    let d = Driftd::start(CONFIG);
    let base = d.url("http_json");
    let client = reqwest::Client::new();
    let telemetry = format!("{base}/v1/telemetry");
    let long = "s".repeat(65);
    let cases: Vec<(String, u16, &str, &str)> = vec![
        (
            r#"{"service_id":"a","latency_ms":-5}"#.into(),
            422,
            "latency_ms",
            "negative",
        ),
        (
            r#"{"service_id":"a","latency_ms":NaN}"#.into(),
            422,
            "latency_ms",
            "NaN",
        ),
        (
            r#"{"service_id":"a","latency_ms":"NaN"}"#.into(),
            422,
            "latency_ms",
            "NaN",
        ),
        (r#"{"service_id":"a"}"#.into(), 422, "latency_ms", "required"),
        (r#"{"service_id":"","latency_ms":1}"#.into(), 422, "service_id", "empty"),
        (
            format!(r#"{{"service_id":"{long}","latency_ms":1}}"#),
            422,
            "service_id",
            "at most 64",
        ),
        (
            r#"{"service_id":"a","latency_ms":1,"timestamp":"12/01/2026 10:30"}"#.into(),
            422,
            "timestamp",
            "RFC 3339",
        ),
        (r#"{"service_id":"a","latency_ms":1"#.into(), 400, "", "not valid JSON"),
        ("latency=5".into(), 400, "", "not valid JSON"),
    ];
    for (body, status, field, words) in cases {
        let (got, answer) = post(&client, &telemetry, body.clone()).await;
        assert_eq!(got, status, "{body}: {answer}");
        let message = answer["error"]
            .as_str()
            .unwrap_or_else(|| panic!("{body}: no message: {answer}"));
        assert!(message.contains(words), "{body}: {message}");
        if !field.is_empty() {
            assert_eq!(answer["field"], field, "{body}");
        }
    }

    // 413: over the body limit, as sent and once gzip is inflated.
    let padded = format!(r#"{{"service_id":"a","latency_ms":1{}}}"#, " ".repeat(4096));
    let (status, answer) = post(&client, &telemetry, padded.clone()).await;
    assert_eq!(status, 413, "{answer}");
    assert!(answer["error"].as_str().unwrap().contains("2048 bytes"), "{answer}");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(padded.as_bytes()).unwrap();
    let r = client
        .post(&telemetry)
        .header("content-encoding", "gzip")
        .header("content-type", "application/json")
        .body(gz.finish().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 413);
    assert!(r.text().await.unwrap().contains("decompressed"));

    // 415: an encoding driftd does not read.
    let r = client
        .post(&telemetry)
        .header("content-encoding", "zstd")
        .header("content-type", "application/json")
        .body(r#"{"service_id":"a","latency_ms":1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 415);

    // /v1/points: one reason per refused point; 422 when none was taken.
    let points = format!("{base}/v1/points");
    let (status, answer) = post(
        &client,
        &points,
        r#"[{"metric":"queue","value":3,"labels":{"service.name":"w"}},{"metric":"queue","value":1,"timestamp":"soon"}]"#,
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(
        (answer["accepted"].as_u64(), answer["rejected"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(answer["errors"][0]["index"], 1);
    assert!(answer["errors"][0]["error"].as_str().unwrap().contains("RFC 3339"));
    let (status, answer) = post(&client, &points, r#"{"metric":"queue"}"#).await;
    assert_eq!(status, 422, "{answer}");
    assert!(
        answer["error"].as_str().unwrap().contains("value is required"),
        "{answer}"
    );
    let (status, _) = post(&client, &points, "[{").await;
    assert_eq!(status, 400);

    let refused = prometheus_sum(
        &d.url("prometheus"),
        "driftd_receiver_requests_total",
        &["receiver=\"http_json\"", "outcome=\"bad_request\""],
    )
    .await;
    assert!(refused >= 11.0, "{refused}");
}
