//! `series_ttl` end to end: a series that stops reporting leaves `/metrics` after its
//! TTL and is counted as expired, while one that keeps reporting stays.

mod common;

use common::{drift_events, eventually, prometheus_sum, Driftd};
use serde_json::json;
use std::time::Duration;

const CONFIG: &str = r#"
receivers:
  http_json:
    endpoint: 127.0.0.1:0
processors:
  drift:
    series_ttl: 2s
exporters:
  prometheus:
    endpoint: 127.0.0.1:0
service:
  pipelines:
    metrics:
      receivers: [http_json]
      processors: [drift]
      exporters: [prometheus]
"#;

async fn post(client: &reqwest::Client, url: &str, metric: &str, i: u64) {
    let body = json!({"metric": metric, "value": i as f64, "labels": {"service.name": "api"}});
    let r = client.post(url).json(&body).send().await.expect("post");
    assert!(r.status().is_success(), "{}", r.status());
}

async fn scrape(prometheus: &str) -> String {
    reqwest::get(format!("{prometheus}/metrics"))
        .await
        .expect("scrape")
        .text()
        .await
        .expect("body")
}

#[tokio::test]
async fn an_idle_series_leaves_metrics_after_its_ttl_and_a_busy_one_stays() {
    let d = Driftd::start(CONFIG);
    let (points, prometheus) = (format!("{}/v1/points", d.url("http_json")), d.url("prometheus"));
    let client = reqwest::Client::new();
    post(&client, &points, "idle_ms", 0).await;
    post(&client, &points, "busy_ms", 0).await;
    assert!(scrape(&prometheus)
        .await
        .contains(r#"driftd_series_state{metric="idle_ms""#));

    let mut i = 1;
    eventually(Duration::from_secs(10), "the idle series to expire", || {
        i += 1;
        let (client, points, prometheus) = (&client, &points, &prometheus);
        async move {
            post(client, points, "busy_ms", i).await;
            tokio::time::sleep(Duration::from_millis(200)).await;
            let expired = prometheus_sum(prometheus, "driftd_processor_expired_series_total", &[]).await;
            (expired >= 1.0).then_some(())
        }
    })
    .await;
    let text = scrape(&prometheus).await;
    assert!(!text.contains(r#"metric="idle_ms""#), "{text}");
    assert!(text.contains(r#"driftd_series_state{metric="busy_ms""#), "{text}");
    assert_eq!(prometheus_sum(&prometheus, "driftd_series_tracked", &[]).await, 1.0);
    assert!(d.logs().contains("idle series expired"), "{}", d.logs());
}

const DRIFTING: &str = r#"
receivers:
  http_json:
    endpoint: 127.0.0.1:0
processors:
  drift:
    series_ttl: 2s
exporters:
  api:
    endpoint: 127.0.0.1:0
  storage: {}
service:
  pipelines:
    metrics:
      receivers: [http_json]
      processors: [drift]
      exporters: [api, storage]
"#;

/// A series that stops reporting while drifting is forgotten with a drift_end of
/// reason `expired`, so its alert resolves and its incident can close.
#[tokio::test]
async fn a_series_that_expires_while_drifting_ends_its_drift() {
    let d = Driftd::start(DRIFTING);
    let (points, api) = (format!("{}/v1/points", d.url("http_json")), d.url("api"));
    let start = std::time::SystemTime::now() - Duration::from_secs(500);
    let at = |i: u64| humantime::format_rfc3339(start + Duration::from_secs(i)).to_string();
    let calm = |i: u64| 100.0 + ((i * 7919) % 100) as f64 / 50.0 - 1.0;
    let batch: serde_json::Value = (0..480)
        .map(|i| {
            let value = if i < 400 { calm(i) } else { calm(i) + 40.0 };
            json!({"metric": "stuck_ms", "value": value, "timestamp": at(i), "labels": {"service.name": "api"}})
        })
        .collect();
    let r = reqwest::Client::new().post(&points).json(&batch).send().await.unwrap();
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    eventually(Duration::from_secs(5), "the step to drift", || {
        let api = api.clone();
        async move { drift_events(&api, "drift_start").await.into_iter().next() }
    })
    .await;

    let end = eventually(Duration::from_secs(10), "a drift_end once the series expires", || {
        let api = api.clone();
        async move { drift_events(&api, "drift_end").await.into_iter().next() }
    })
    .await;
    assert_eq!(end["reason"], "expired", "{end}");
    assert_eq!(end["series"]["metric"], "stuck_ms", "{end}");
    assert!(d.logs().contains("drifting=1"), "{}", d.logs());
}
