//! `series_ttl` end to end: a series that stops reporting leaves `/metrics` after its
//! TTL and is counted as expired, while one that keeps reporting stays.

mod common;

use common::{eventually, prometheus_sum, Driftd};
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
