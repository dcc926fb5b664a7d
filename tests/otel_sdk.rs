//! The real OpenTelemetry Python SDK (PyPI, installed by `scripts/otel-python.sh`)
//! against driftd's default detector: over gRPC and over HTTP, with cumulative and
//! with delta temporality, two services record a latency histogram and a request
//! counter and export every second for 200 s; one service's latency doubles after
//! 120 s. The stable services must raise no drift at all, the stepped ones must.
//!
//! The drift events fold into incidents: exactly one for each stepped service, with the
//! latency histogram among its members, and none for the stable ones.
//!
//! The four runs go side by side against one driftd (one service pair each), so the
//! test takes about as long as one run.

mod common;

use common::{get_json, prometheus_sum, Driftd, TEST_CONFIG};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Seconds of 1 s exports per run, and when the stepped service's latency doubles.
const DURATION_S: u64 = 200;
const STEP_AT_S: u64 = 120;

fn sdk_python() -> String {
    let out = Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/otel-python.sh"))
        .stderr(Stdio::inherit())
        .output()
        .expect("run scripts/otel-python.sh");
    assert!(
        out.status.success(),
        "scripts/otel-python.sh could not install the OpenTelemetry SDK from PyPI"
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// The drift events of service `service`.
async fn events_of(api: &str, service: &str) -> Vec<serde_json::Value> {
    let (status, body) = get_json(&format!("{api}/v1/events?service={service}&limit=1000")).await;
    assert_eq!(status, 200, "{body}");
    body["events"].as_array().cloned().unwrap_or_default()
}

/// The incidents of entity `entity`.
async fn incidents_of(api: &str, entity: &str) -> Vec<serde_json::Value> {
    let (status, body) = get_json(&format!("{api}/v1/incidents?entity={entity}")).await;
    assert_eq!(status, 200, "{body}");
    body["incidents"].as_array().cloned().unwrap_or_default()
}

fn describe(events: &[serde_json::Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            format!(
                "{} {} {} scores={}",
                e["kind"], e["series"]["metric"], e["severity"], e["scores"]
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_real_sdk_raises_drift_only_for_the_service_that_changed() {
    let python = sdk_python();
    let d = Driftd::start(TEST_CONFIG);
    let api = d.url("api");
    let runs = [
        ("grpc", "cumulative", d.url("otlp/grpc")),
        ("grpc", "delta", d.url("otlp/grpc")),
        ("http", "cumulative", d.url("otlp/http")),
        ("http", "delta", d.url("otlp/http")),
    ];
    let started = Instant::now();
    let children: Vec<_> = runs
        .iter()
        .map(|(protocol, temporality, endpoint)| {
            let child = Command::new(&python)
                .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/otel_sdk/scenario.py"))
                .args([
                    "--endpoint",
                    endpoint,
                    "--protocol",
                    protocol,
                    "--temporality",
                    temporality,
                ])
                .args([
                    "--duration",
                    &DURATION_S.to_string(),
                    "--step-at",
                    &STEP_AT_S.to_string(),
                ])
                .args(["--prefix", &format!("{protocol}-{temporality}")])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start the SDK scenario");
            (format!("{protocol}-{temporality}"), child)
        })
        .collect();
    for (prefix, child) in children {
        let out = child.wait_with_output().expect("SDK scenario ran");
        assert!(
            out.status.success(),
            "{prefix}: the SDK's exports failed\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        println!("{prefix}: {}", String::from_utf8_lossy(&out.stdout).trim());
    }
    assert!(started.elapsed() >= Duration::from_secs(DURATION_S));
    // The last exports are through the pipeline once the API has their series.
    tokio::time::sleep(Duration::from_secs(1)).await;

    let mut failures = Vec::new();
    for (protocol, temporality, _) in &runs {
        let prefix = format!("{protocol}-{temporality}");
        let stable = events_of(&api, &format!("{prefix}-stable")).await;
        let stepped = events_of(&api, &format!("{prefix}-stepped")).await;
        println!("{prefix}: stable {:?}", describe(&stable));
        println!("{prefix}: stepped {:?}", describe(&stepped));
        if !stable.is_empty() {
            failures.push(format!("{prefix}: the stable service drifted: {:?}", describe(&stable)));
        }
        if !stepped.iter().any(|e| e["kind"] == "drift_start") {
            failures.push(format!("{prefix}: the stepped service raised no drift"));
        }
        let stable_incidents = incidents_of(&api, &format!("{prefix}-stable")).await;
        let stepped_incidents = incidents_of(&api, &format!("{prefix}-stepped")).await;
        let summaries: Vec<_> = stepped_incidents.iter().map(|i| i["summary"].clone()).collect();
        println!("{prefix}: stepped incidents {summaries:?}");
        if !stable_incidents.is_empty() {
            failures.push(format!(
                "{prefix}: the stable service has incidents: {stable_incidents:?}"
            ));
        }
        match stepped_incidents.as_slice() {
            [one] => {
                let signals: Vec<&str> = one["members"]
                    .as_array()
                    .map(|m| m.iter().filter_map(|m| m["signal"].as_str()).collect())
                    .unwrap_or_default();
                if !signals.contains(&"http.server.duration") {
                    failures.push(format!(
                        "{prefix}: the incident lacks the latency histogram: {signals:?}"
                    ));
                }
            }
            other => failures.push(format!(
                "{prefix}: expected one incident for the stepped service, got {}: {summaries:?}",
                other.len()
            )),
        }
        let health = format!("entity=\"{prefix}-stable\"");
        let stable_health = prometheus_sum(&d.url("prometheus"), "driftd_entity_health", &[&health]).await;
        if stable_health != 100.0 {
            failures.push(format!(
                "{prefix}: the stable service's health is {stable_health}, not 100"
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}\n{}", d.logs());
}
