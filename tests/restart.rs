//! A restart keeps what was learned, for every persistent storage backend: baselines
//! come back from checkpoints (a step right after the restart is found at once, with
//! no relearning), the event history from before is still served with each event's
//! evidence and the series' recent history, and the open incident is still open, goes
//! on in the new process and can be acknowledged.

mod common;

use common::otlp::{latency_request, SECOND, T0};
use common::{eventually, require_server, Driftd, TempDir};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};
use serde_json::Value;
use std::time::Duration;

const SERVICES: [&str; 2] = ["stepped-before", "stepped-after"];

/// `storage` must set a long `retention`: the synthetic events are dated 2026-01-01,
/// and a store prunes what is older than its retention at startup.
fn config(storage: &str) -> String {
    format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:0
processors:
  drift:
    checkpoint_interval: 1s
exporters:
  api:
    endpoint: 127.0.0.1:0
  storage: {{}}
storage: {storage}
service:
  pipelines:
    metrics:
      receivers: [otlp]
      processors: [drift]
      exporters: [api, storage]
"#
    )
}

/// A name no other run uses (parallel test processes share the servers).
fn unique(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{tag}{}x{nanos}", std::process::id())
}

async fn get(url: &str) -> Value {
    reqwest::get(url).await.expect("get").json().await.expect("json")
}

async fn starts(api: &str) -> Vec<Value> {
    get(&format!("{api}/v1/events?kind=drift_start")).await["events"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn incidents(api: &str) -> Vec<Value> {
    get(&format!("{api}/v1/incidents")).await["incidents"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn send(d: &Driftd, range: std::ops::Range<u64>, value: impl Fn(usize, u64) -> f64) {
    let mut client = MetricsServiceClient::connect(d.url("otlp/grpc"))
        .await
        .expect("connect");
    for i in range {
        let values: Vec<f64> = (0..SERVICES.len()).map(|s| value(s, i)).collect();
        client
            .export(latency_request(&SERVICES, i, &values))
            .await
            .expect("export");
    }
}

async fn restart_keeps_baselines_and_history(storage: &str) {
    let noise = Normal::new(0.0, 10.0).unwrap();
    let sample = move |s: usize, i: u64| 100.0 + noise.sample(&mut StdRng::seed_from_u64(i * 10 + s as u64));

    // First life: both series learn; the first one steps and raises an event.
    let mut first = Driftd::start(&config(storage));
    let api = first.url("api");
    send(&first, 0..200, sample).await;
    send(&first, 200..230, |s, i| sample(s, i) + if s == 0 { 60.0 } else { 0.0 }).await;
    let before = eventually(Duration::from_secs(10), "the first drift_start", || async {
        let e = starts(&api).await;
        (!e.is_empty()).then_some(e)
    })
    .await;
    assert_eq!(before.len(), 1, "{before:?}");
    assert_eq!(before[0]["series"]["labels"]["service.name"], SERVICES[0]);
    let opened = eventually(Duration::from_secs(10), "the incident of the first drift", || async {
        let i = incidents(&api).await;
        (!i.is_empty()).then_some(i)
    })
    .await;
    assert_eq!(opened.len(), 1, "{opened:?}");
    assert_eq!(opened[0]["entity"], SERVICES[0]);
    assert_eq!(opened[0]["state"], "open");
    assert_eq!(before[0]["incident"], opened[0]["id"]);
    let status = first.stop();
    assert!(status.success(), "clean exit: {status}\n{}", first.logs());

    // Second life, same storage: nothing is relearned.
    let second = Driftd::start(&config(storage));
    let api = second.url("api");
    assert!(
        second.logs().contains("restored detector checkpoints"),
        "{}",
        second.logs()
    );
    let health = get(&format!("{api}/v1/health/{}", SERVICES[1])).await;
    assert_eq!(health["state"], "STABLE", "restored, not learning again: {health}");
    assert_eq!(health["sample_count"], 230, "{health}");
    let history = starts(&api).await;
    assert_eq!(
        history.len(),
        1,
        "the event from before the restart is still served: {history:?}"
    );
    assert_eq!(history[0]["id"], before[0]["id"]);
    // The incident is still there, still open (its series still drifts), and can be
    // acknowledged over the API.
    assert!(second.logs().contains("restored open incidents"), "{}", second.logs());
    let kept = incidents(&api).await;
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!((&kept[0]["id"], &kept[0]["state"]), (&opened[0]["id"], &"open".into()));
    let id = opened[0]["id"].as_str().unwrap();
    let ack = reqwest::Client::new()
        .post(format!("{api}/v1/incidents/{id}/ack"))
        .send()
        .await
        .expect("ack");
    assert_eq!(ack.status(), 200);
    let fetched = get(&format!("{api}/v1/incidents/{id}")).await;
    assert_eq!(fetched["state"], "acknowledged", "{fetched}");
    evidence_survives(&api, &before[0]).await;

    send(&second, 230..240, |s, i| sample(s, i) + if s == 1 { 60.0 } else { 0.0 }).await;
    let after = eventually(Duration::from_secs(10), "the second drift_start", || async {
        let e = starts(&api).await;
        (e.len() == 2).then_some(e)
    })
    .await;
    let new = after
        .iter()
        .find(|e| e["series"]["labels"]["service.name"] == SERVICES[1])
        .expect("stepped-after drifted");
    let ts = humantime::parse_rfc3339(new["timestamp"].as_str().unwrap()).unwrap();
    let index = (ts.duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 - T0) / SECOND;
    assert!(
        (230..235).contains(&index),
        "found at sample {index}, the step began at 230"
    );
}

/// After the restart, the drift's evidence is still served: the event's snapshot (the
/// series' history up to it, with the baseline band) and the series' recent history,
/// whose ring was saved at shutdown, with the event on it.
async fn evidence_survives(api: &str, start: &Value) {
    let seconds = |t: &Value| {
        let t = humantime::parse_rfc3339(t.as_str().unwrap()).unwrap();
        t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64()
    };
    let times = |h: &Value| -> Vec<f64> { serde_json::from_value(h["time"].clone()).unwrap() };
    let event = get(&format!("{api}/v1/events/{}", start["id"].as_str().unwrap())).await;
    assert_eq!(event["id"], start["id"], "{event}");
    let onset = seconds(&event["onset"]);
    let shown = times(&event["snapshot"]);
    assert!(
        shown.iter().filter(|t| **t < onset).count() >= 60,
        "before the change: {shown:?}"
    );
    assert!(shown.iter().any(|t| *t >= onset), "after the change: {shown:?}");
    let band = event["snapshot"]["level"].as_array().unwrap();
    assert!(band.iter().filter(|l| l.is_f64()).count() >= 60, "the band: {band:?}");

    let series = start["series_id"].as_str().unwrap();
    let history = get(&format!("{api}/v1/series/{series}/history")).await;
    assert_eq!(history["kept"], true, "{history}");
    let kept = times(&history["history"]);
    let last = (T0 + 229 * SECOND) as f64 / 1e9;
    assert_eq!(kept.last(), Some(&last), "the ring as it was at shutdown");
    assert!(kept.len() >= 120, "{}", kept.len());
    assert!(
        history["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["id"] == start["id"]),
        "{history}"
    );
    let coarse = get(&format!("{api}/v1/series/{series}/history?step=1m")).await;
    assert_eq!(
        times(&coarse["history"]).len(),
        4,
        "230 samples in 1-minute buckets: {coarse}"
    );
}

#[tokio::test]
async fn sqlite_keeps_baselines_and_history_across_a_restart() {
    let dir = TempDir::new("restart-sqlite");
    let path = dir.0.join("state.db");
    restart_keeps_baselines_and_history(&format!(
        "{{backend: sqlite, retention: 3650d, path: \"{}\"}}",
        path.display()
    ))
    .await;
}

#[tokio::test]
async fn redis_keeps_baselines_and_history_across_a_restart() {
    require_server("Redis", "127.0.0.1:6379", "scripts/services.sh");
    let prefix = unique("driftd-restart-");
    restart_keeps_baselines_and_history(&format!(
        "{{backend: redis, retention: 3650d, url: \"redis://127.0.0.1:6379\", key_prefix: \"{prefix}:\"}}"
    ))
    .await;
}

async fn postgresql_keeps_baselines_and_history(port: u16) {
    let (name, script) = match port {
        5432 => ("PostgreSQL", "scripts/services.sh"),
        5433 => ("PostgreSQL with TimescaleDB", "scripts/timescaledb.sh"),
        _ => ("PostgreSQL with TimescaleDB (Apache)", "scripts/timescaledb.sh"),
    };
    require_server(name, &format!("127.0.0.1:{port}"), script);
    let prefix = unique("restart_");
    restart_keeps_baselines_and_history(&format!(
        "{{backend: timescale, retention: 3650d, url: \"postgres://postgres@127.0.0.1:{port}/test\", table_prefix: \"{prefix}_\"}}"
    ))
    .await;
}

#[tokio::test]
async fn postgresql_keeps_baselines_and_history_across_a_restart() {
    postgresql_keeps_baselines_and_history(5432).await;
}

/// PostgreSQL with the TimescaleDB community edition (`scripts/timescaledb.sh`).
#[tokio::test]
async fn timescaledb_keeps_baselines_and_history_across_a_restart() {
    postgresql_keeps_baselines_and_history(5433).await;
}

/// PostgreSQL with TimescaleDB under its Apache-2.0 license (`scripts/timescaledb.sh`).
#[tokio::test]
async fn timescaledb_apache_keeps_baselines_and_history_across_a_restart() {
    postgresql_keeps_baselines_and_history(5434).await;
}
