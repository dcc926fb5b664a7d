//! End to end over real sockets: OTLP in (gRPC, and HTTP with JSON), a 5σ step on one
//! of three series, drift seen in events, /metrics and /v1/health, then recovery.

mod common;

use common::{eventually, Driftd, TEST_CONFIG};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};
use serde_json::Value;
use std::time::Duration;

const SERVICES: [&str; 3] = ["checkout", "payments", "search"];
const STEPPED: &str = "payments";
use common::otlp::{SECOND, T0};
const MEAN: f64 = 100.0;
const SIGMA: f64 = 10.0;

#[derive(Clone, Copy)]
enum Transport {
    Grpc,
    HttpJson,
}

/// One request with one point per service at sample index `i`.
fn request(i: u64, values: [f64; 3]) -> ExportMetricsServiceRequest {
    common::otlp::latency_request(&SERVICES, i, &values)
}

struct Sender {
    transport: Transport,
    grpc: Option<MetricsServiceClient<tonic::transport::Channel>>,
    http: reqwest::Client,
    http_url: String,
}

impl Sender {
    async fn new(d: &Driftd, transport: Transport) -> Sender {
        let grpc = match transport {
            Transport::Grpc => Some(
                MetricsServiceClient::connect(d.url("otlp/grpc"))
                    .await
                    .expect("grpc connect"),
            ),
            Transport::HttpJson => None,
        };
        Sender {
            transport,
            grpc,
            http: reqwest::Client::new(),
            http_url: format!("{}/v1/metrics", d.url("otlp/http")),
        }
    }

    async fn send(&mut self, req: ExportMetricsServiceRequest) {
        match self.transport {
            Transport::Grpc => {
                let resp = self
                    .grpc
                    .as_mut()
                    .unwrap()
                    .export(req)
                    .await
                    .expect("export")
                    .into_inner();
                assert!(resp.partial_success.is_none_or(|p| p.rejected_data_points == 0));
            }
            Transport::HttpJson => {
                let body = serde_json::to_string(&req).unwrap();
                let resp = self
                    .http
                    .post(&self.http_url)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .expect("post");
                assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap_or_default());
            }
        }
    }
}

async fn get_json(url: &str) -> (u16, Value) {
    let resp = reqwest::get(url).await.expect("get");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn events(api: &str, kind: &str) -> Vec<Value> {
    let (status, body) = get_json(&format!("{api}/v1/events?kind={kind}&limit=1000")).await;
    assert_eq!(status, 200, "{body}");
    body["events"].as_array().cloned().unwrap_or_default()
}

fn sample_index(event: &Value) -> u64 {
    let ts = event["timestamp"].as_str().unwrap();
    let ns = humantime::parse_rfc3339(ts)
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    (ns - T0) / SECOND
}

async fn step_is_detected_and_recovers(transport: Transport) {
    let mut d = Driftd::start(TEST_CONFIG);
    let api = d.url("api");
    let mut sender = Sender::new(&d, transport).await;
    let mut rng = StdRng::seed_from_u64(7);
    let noise = Normal::new(0.0, SIGMA).unwrap();
    let sample = |rng: &mut StdRng| MEAN + noise.sample(rng);

    // 200 stable samples per series.
    for i in 0..200 {
        sender
            .send(request(i, [sample(&mut rng), sample(&mut rng), sample(&mut rng)]))
            .await;
    }
    let (_, health) = get_json(&format!("{api}/v1/health/{STEPPED}")).await;
    assert_eq!(health["state"], "STABLE", "{health}");

    // A 5σ step on one series.
    const STEP_AT: u64 = 200;
    for i in STEP_AT..STEP_AT + 30 {
        sender
            .send(request(
                i,
                [sample(&mut rng), sample(&mut rng) + 5.0 * SIGMA, sample(&mut rng)],
            ))
            .await;
    }
    let starts = eventually(Duration::from_secs(10), "a drift_start event", || async {
        let e = events(&api, "drift_start").await;
        (!e.is_empty()).then_some(e)
    })
    .await;
    assert_eq!(starts.len(), 1, "exactly one drift_start: {starts:?}");
    let start = &starts[0];
    assert_eq!(start["series"]["labels"]["service.name"], STEPPED, "{start}");
    assert_eq!(start["series"]["metric"], "latency_ms");
    let fired_at = sample_index(start);
    assert!(
        (STEP_AT..STEP_AT + 5).contains(&fired_at),
        "fired at sample {fired_at}, the step was at {STEP_AT}"
    );
    assert!(
        sample_index(&serde_json::json!({"timestamp": start["onset"]})) >= STEP_AT,
        "onset after the step: {start}"
    );
    assert_eq!(start["severity"], "severe");
    assert!(
        (start["baseline"]["mean"].as_f64().unwrap() - MEAN).abs() < 3.0,
        "{start}"
    );

    let (_, health) = get_json(&format!("{api}/v1/health/{STEPPED}")).await;
    assert_eq!(health["state"], "DRIFT_DETECTED", "{health}");
    for calm in ["checkout", "search"] {
        let (_, h) = get_json(&format!("{api}/v1/health/{calm}")).await;
        assert_eq!(h["state"], "STABLE", "{calm}: {h}");
    }
    let metrics = reqwest::get(format!("{}/metrics", d.url("prometheus")))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let state_of = |svc: &str| {
        metrics
            .lines()
            .find(|l| l.starts_with("driftd_series_state{") && l.contains(&format!("service_name=\"{svc}\"")))
            .and_then(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
    };
    assert_eq!(state_of(STEPPED), Some(2.0), "{metrics}");
    assert_eq!(state_of("checkout"), Some(1.0), "{metrics}");

    // Back to normal: the series recovers. How long "50 consecutive |z| <= 2" takes
    // depends on how well 100 samples estimated the spread, so send normal traffic
    // until it does, within a bound.
    let mut i = STEP_AT + 30;
    loop {
        for _ in 0..100 {
            sender
                .send(request(i, [sample(&mut rng), sample(&mut rng), sample(&mut rng)]))
                .await;
            i += 1;
        }
        let (_, health) = get_json(&format!("{api}/v1/health/{STEPPED}")).await;
        if health["state"] == "STABLE" {
            break;
        }
        assert!(i < STEP_AT + 5_000, "no recovery after {i} samples: {health}");
    }
    let ends = eventually(Duration::from_secs(10), "a drift_end event", || async {
        let e = events(&api, "drift_end").await;
        (!e.is_empty()).then_some(e)
    })
    .await;
    assert_eq!(ends.len(), 1, "{ends:?}");
    assert_eq!(ends[0]["series"]["labels"]["service.name"], STEPPED);
    assert_eq!(ends[0]["reason"], "recovered");
    let (_, health) = get_json(&format!("{api}/v1/health/{STEPPED}")).await;
    assert_eq!(health["state"], "STABLE", "{health}");
    assert_eq!(events(&api, "drift_start").await.len(), 1, "no other series drifted");

    // A clean exit on SIGTERM, after which the jsonl exporter has written both events.
    let status = d.stop();
    assert!(status.success(), "clean exit on SIGTERM: {status}\n{}", d.logs());
    let lines = std::fs::read_to_string(d.dir().join("events.jsonl")).expect("events.jsonl");
    let kinds: Vec<String> = lines
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).expect("one JSON object per line")["kind"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(kinds, ["drift_start", "drift_end"]);
}

#[tokio::test]
async fn grpc_step_is_detected_and_recovers() {
    step_is_detected_and_recovers(Transport::Grpc).await;
}

#[tokio::test]
async fn http_json_step_is_detected_and_recovers() {
    step_is_detected_and_recovers(Transport::HttpJson).await;
}
