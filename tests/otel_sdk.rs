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
//!
//! Beside them (a second test, run in parallel), a fifth pair whose stepped service
//! recovers goes through a driftd that notifies a real Prometheus Alertmanager (Debian
//! `prometheus-alertmanager`, installed by `scripts/alertmanager.sh`, started by the
//! test): it must hold exactly one alert for the stepped service while it drifts, none
//! for the stable one, and none once the incident resolved.

mod common;

use common::{get_json, prometheus_sum, Driftd, TEST_CONFIG};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Seconds of 1 s exports per run, and when the stepped service's latency doubles.
const DURATION_S: u64 = 200;
const STEP_AT_S: u64 = 120;

/// The SDK scenario `scenario.py` with `args`, its output piped.
fn scenario(python: &str, args: &[&str]) -> Child {
    Command::new(python)
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/otel_sdk/scenario.py"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the SDK scenario")
}

/// Waits for a scenario and checks its exports all succeeded.
fn finished(name: &str, child: Child) {
    let out = child.wait_with_output().expect("SDK scenario ran");
    assert!(
        out.status.success(),
        "{name}: the SDK's exports failed\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{name}: {}", String::from_utf8_lossy(&out.stdout).trim());
}

/// The venv's python, installed once per test process (the script also locks, so
/// parallel processes wait for one install).
fn sdk_python() -> String {
    static PYTHON: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PYTHON.get_or_init(|| common::installed("otel-python.sh")).clone()
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
    let (duration, step_at) = (DURATION_S.to_string(), STEP_AT_S.to_string());
    let children: Vec<_> = runs
        .iter()
        .map(|(protocol, temporality, endpoint)| {
            let prefix = format!("{protocol}-{temporality}");
            let args = [
                "--endpoint",
                endpoint,
                "--protocol",
                protocol,
                "--temporality",
                temporality,
                "--duration",
                &duration,
                "--step-at",
                &step_at,
                "--prefix",
                &prefix,
            ];
            (prefix.clone(), scenario(&python, &args))
        })
        .collect();
    for (prefix, child) in children {
        finished(&prefix, child);
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

/// A real Alertmanager on a free port, stopped on drop.
struct Alertmanager {
    child: Child,
    url: String,
    _dir: common::TempDir,
}

impl Alertmanager {
    fn start() -> Alertmanager {
        let bin = common::installed("alertmanager.sh");
        let dir = common::TempDir::new("alertmanager");
        let config = dir.0.join("alertmanager.yml");
        std::fs::write(&config, "route:\n  receiver: nobody\nreceivers:\n  - name: nobody\n").unwrap();
        let port = common::free_port();
        let child = Command::new(bin)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.path={}", dir.0.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prometheus-alertmanager");
        Alertmanager {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        }
    }

    /// The active alerts it holds (`None` while it is not up yet).
    async fn alerts(&self) -> Option<Vec<serde_json::Value>> {
        let resp = reqwest::get(format!("{}/api/v2/alerts?active=true", self.url))
            .await
            .ok()?;
        resp.json::<Vec<serde_json::Value>>().await.ok()
    }
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `entity` labels of `alerts`.
fn entities(alerts: &[serde_json::Value]) -> Vec<String> {
    alerts
        .iter()
        .map(|a| a["labels"]["entity"].as_str().unwrap_or("?").to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_real_alertmanager_holds_one_alert_per_incident_until_it_resolves() {
    let python = sdk_python();
    let am = Alertmanager::start();
    common::eventually(Duration::from_secs(30), "Alertmanager up", || am.alerts()).await;
    let config = format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:0
processors:
  drift:
    incidents:
      window: 30s
exporters:
  api:
    endpoint: 127.0.0.1:0
  storage: {{}}
  webhook/alertmanager:
    url: {}/api/v2/alerts
    format: alertmanager
    resend_interval: 10s
    cooldown: 0s
service:
  pipelines:
    metrics:
      receivers: [otlp]
      processors: [drift]
      exporters: [api, storage, webhook/alertmanager]
"#,
        am.url
    );
    let d = Driftd::start(&config);
    let endpoint = d.url("otlp/grpc");
    // Learns for 120 s, doubles its latency for 80 s, then runs normally for 170 s: its
    // derived series need up to about 110 s to recover (the `_p50` of few requests
    // jumps between bucket interpolations, so 30 calm samples in a row come late), and
    // then the incident waits out its 30 s window.
    let args = [
        "--endpoint",
        &endpoint,
        "--protocol",
        "grpc",
        "--temporality",
        "cumulative",
        "--duration",
        "370",
        "--step-at",
        "120",
        "--recover-at",
        "200",
        "--prefix",
        "am",
    ];
    let child = scenario(&python, &args);
    // While it runs: never more than one alert, never one for the stable service.
    let mut most = 0;
    let mut seen = Vec::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(370) {
        let alerts = am.alerts().await.unwrap_or_default();
        let names = entities(&alerts);
        assert!(names.len() <= 1, "{names:?}\n{alerts:#?}\n{}", d.logs());
        assert!(!names.iter().any(|e| e == "am-stable"), "{alerts:#?}");
        most = most.max(names.len());
        if let Some(a) = alerts.first() {
            seen.push(a.clone());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    finished("am", child);
    assert_eq!(most, 1, "the stepped service never alerted\n{}", d.logs());
    let alert = &seen[0];
    assert_eq!(alert["labels"]["alertname"], "DriftIncident");
    assert_eq!(alert["labels"]["entity"], "am-stepped");
    let incidents = incidents_of(&d.url("api"), "am-stepped").await;
    assert_eq!(incidents.len(), 1, "{incidents:#?}");
    assert_eq!(alert["labels"]["incident_id"], incidents[0]["id"]);
    // Recovered: the incident resolved in driftd, and the alert left Alertmanager.
    assert_eq!(incidents[0]["state"], "resolved", "{incidents:#?}\n{}", d.logs());
    let left = am.alerts().await.unwrap_or_default();
    assert!(left.is_empty(), "still active after the resolve: {left:#?}");
    println!("alert: {}", alert["annotations"]);
}
