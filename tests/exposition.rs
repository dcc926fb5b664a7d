//! driftd's `/metrics` as Prometheus' own tools read it: after real traffic with a
//! drift (so the receiver, processor, exporter-queue and storage families are all
//! there), `promtool check metrics` (Debian `prometheus`) has nothing to say about the
//! text format, and a scraper that asks for OpenMetrics gets it.

mod common;

use common::otlp::send_latency_step;
use common::{eventually, Driftd, TEST_CONFIG};
use std::io::Write;
use std::process::{Command, Stdio};

async fn scrape(d: &Driftd, accept: Option<&str>) -> (String, String) {
    let mut request = reqwest::Client::new().get(format!("{}/metrics", d.url("prometheus")));
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    let response = request.send().await.expect("scrape");
    assert!(response.status().is_success());
    let content_type = response.headers()["content-type"].to_str().unwrap().to_string();
    (content_type, response.text().await.expect("a body"))
}

#[tokio::test]
async fn promtool_finds_nothing_to_lint_and_openmetrics_is_served_when_asked() {
    let driftd = Driftd::start(TEST_CONFIG);
    send_latency_step(&driftd, &["checkout", "search"]).await;

    let (content_type, text) = eventually(
        std::time::Duration::from_secs(10),
        "the drift's event exported",
        || async {
            let (content_type, text) = scrape(&driftd, None).await;
            text.contains("driftd_exporter_sent_events_total{")
                .then_some((content_type, text))
        },
    )
    .await;
    assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
    for family in [
        "driftd_receiver_accepted_points_total",
        "driftd_processor_events_total",
        "driftd_exporter_sent_events_total",
        "driftd_exporter_queue_size",
        "driftd_processor_batch_duration_seconds",
        "driftd_series_state",
        "driftd_entity_health",
    ] {
        assert!(
            text.contains(&format!("# TYPE {family} ")),
            "{family} is on /metrics:\n{text}"
        );
    }
    let promtool = std::path::Path::new(&common::installed("prometheus.sh")).with_file_name("promtool");
    let mut child = Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("run {}: {e}", promtool.display()));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .expect("feed promtool");
    let out = child.wait_with_output().expect("promtool ends");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && said.trim().is_empty(),
        "promtool check metrics:\n{said}"
    );

    // What Prometheus itself sends: OpenMetrics, counter families named without
    // `_total`, no blank lines, `# EOF` last. (tests/dashboard.rs has a real Prometheus
    // scrape it.)
    let prometheus_accept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    let (content_type, om) = scrape(&driftd, Some(prometheus_accept)).await;
    assert_eq!(
        content_type,
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    let lines: Vec<&str> = om.lines().collect();
    assert_eq!(lines.last(), Some(&"# EOF"), "{om}");
    assert!(!lines.contains(&""), "no blank lines in OpenMetrics:\n{om}");
    assert!(lines.contains(&"# TYPE driftd_processor_events counter"), "{om}");
    assert!(
        lines.iter().any(|l| l.starts_with("driftd_processor_events_total{")),
        "{om}"
    );
    assert!(!om.contains("_total counter"), "no counter family named _total:\n{om}");
}
