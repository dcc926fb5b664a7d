//! The memory limiter end to end (`service.memory_limiter`): a client keeps sending
//! series driftd has never seen, five times more than fit under the limits, while
//! another keeps sending ten known series. driftd's resident memory stays under the
//! hard limit, batches of new series get 503 with `Retry-After` once the soft limit is
//! reached, and every accepted point of the known series is judged, once.

mod common;

use common::{get_json, prometheus_sum, Driftd};
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

const HARD_MIB: u64 = 160;

const CONFIG: &str = r#"
receivers:
  http_json:
    endpoint: 127.0.0.1:0
processors:
  drift: {}
exporters:
  api:
    endpoint: 127.0.0.1:0
  prometheus:
    endpoint: 127.0.0.1:0
service:
  memory_limiter:
    limit_mib: 160
    spike_limit_mib: 60
    check_interval: 50ms
  pipelines:
    metrics:
      receivers: [http_json]
      processors: [drift]
      exporters: [api, prometheus]
"#;

const BATCH: u64 = 1_000;
const KNOWN: u64 = 10;

fn resident_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("driftd is running");
    let line = status.lines().find_map(|l| l.strip_prefix("VmRSS:")).expect("VmRSS");
    line.split_whitespace().next().unwrap().parse::<u64>().unwrap() / 1024
}

/// Posts `points`; `true` when taken, `false` when refused as retryable (anything
/// else fails the test).
async fn post(client: &reqwest::Client, url: &str, points: serde_json::Value) -> bool {
    let r = client.post(url).json(&points).send().await.expect("driftd answers");
    match r.status().as_u16() {
        202 => true,
        503 => {
            assert_eq!(r.headers()["retry-after"], "1", "a refusal says when to retry");
            let body: serde_json::Value = r.json().await.unwrap();
            assert!(body["error"].as_str().unwrap().contains("retry"), "{body}");
            false
        }
        other => panic!("{other}: {}", r.text().await.unwrap()),
    }
}

fn known_points(i: u64) -> serde_json::Value {
    (0..KNOWN)
        .map(|n| json!({"metric": "known_ms", "value": 10.0 + (i % 3) as f64, "labels": {"n": n.to_string()}}))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_times_more_series_than_fit_stay_under_the_hard_limit_and_known_series_are_judged() {
    let d = Driftd::start(CONFIG);
    let (points, api) = (format!("{}/v1/points", d.url("http_json")), d.url("api"));
    let client = reqwest::Client::new();
    assert!(
        post(&client, &points, known_points(0)).await,
        "the known series are in before the load"
    );

    let (pid, done, peak) = (d.pid(), Arc::new(AtomicBool::new(false)), Arc::new(AtomicU64::new(0)));
    let sampler = {
        let (done, peak) = (done.clone(), peak.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(resident_mib(pid), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    // Known series, every 20 ms, until the load is over and a few rounds more.
    let known = {
        let (client, points, done) = (client.clone(), points.clone(), done.clone());
        tokio::spawn(async move {
            let (mut taken, mut refused, mut rounds_after) = (0u64, 0u64, 0);
            let mut i = 1;
            while rounds_after < 25 {
                if post(&client, &points, known_points(i)).await {
                    taken += 1;
                } else {
                    refused += 1;
                }
                i += 1;
                rounds_after += u32::from(done.load(Ordering::Relaxed));
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            (taken, refused)
        })
    };

    // New series, a thousand per batch, until five times more were sent than taken.
    let (mut taken, mut refused) = (0u64, 0u64);
    for k in 0..2_000u64 {
        let batch: serde_json::Value = (0..BATCH)
            .map(|j| json!({"metric": "load", "value": 1.0, "labels": {"n": (k * BATCH + j).to_string()}}))
            .collect();
        if post(&client, &points, batch).await {
            taken += 1;
        } else {
            refused += 1;
        }
        if refused > 0 && taken + refused >= 5 * taken {
            break;
        }
    }
    done.store(true, Ordering::Relaxed);
    let (known_taken, known_refused) = known.await.unwrap();
    sampler.join().unwrap();

    let peak = peak.load(Ordering::Relaxed);
    eprintln!(
        "new series: {taken} batches of {BATCH} taken, {refused} refused; known series: {known_taken} taken, \
         {known_refused} refused; resident memory peak {peak} MiB (hard limit {HARD_MIB} MiB)"
    );
    assert!(
        peak < HARD_MIB,
        "resident memory peaked at {peak} MiB, over the {HARD_MIB} MiB hard limit"
    );
    assert!(
        refused > 0 && taken + refused >= 5 * taken,
        "{taken} batches taken, {refused} refused"
    );
    let prometheus = d.url("prometheus");
    let counted = prometheus_sum(
        &prometheus,
        "driftd_memory_refused_points_total",
        &[r#"reason="new_series""#],
    )
    .await;
    assert!(
        counted >= (refused * BATCH) as f64,
        "{counted} refused points counted, {refused} batches refused"
    );

    // Every taken batch of known series was judged, and none twice.
    let (_, list) = get_json(&format!("{api}/v1/series?metric=known_ms")).await;
    let series = list["series"].as_array().unwrap();
    assert_eq!(series.len() as u64, KNOWN);
    for s in series {
        assert_eq!(s["sample_count"], 1 + known_taken, "{s} ({known_refused} refused)");
    }
    assert!(
        known_taken >= 25,
        "known series kept being judged: {known_taken} taken, {known_refused} refused"
    );
    let (_, load) = get_json(&format!("{api}/v1/series?metric=load&limit=1")).await;
    assert_eq!(
        load["total"],
        taken * BATCH,
        "the series of taken batches, none of the refused"
    );

    let mut d = d;
    assert!(d.stop().success(), "{}", d.logs());
    assert!(!d.logs().contains("panicked"), "{}", d.logs());
}
