//! Shutdown phases (`service.shutdown`): each has its own deadline. A webhook that
//! never answers holds its exporter's queue; on SIGTERM driftd stops its receivers,
//! finishes its processors, gives the exporters their own deadline, says which one ran
//! out, and exits cleanly, well before the deadlines of all phases would add up.

mod common;

use common::{eventually, Driftd};
use serde_json::json;
use std::net::TcpListener;
use std::time::{Duration, Instant, SystemTime};

fn config(hook_port: u16) -> String {
    format!(
        r#"
receivers:
  http_json:
    endpoint: 127.0.0.1:0
processors:
  drift: {{}}
exporters:
  webhook:
    url: http://127.0.0.1:{hook_port}/hook
    timeout: 60s
service:
  shutdown:
    receivers: 1s
    processors: 1s
    exporters: 2s
  pipelines:
    metrics:
      receivers: [http_json]
      processors: [drift]
      exporters: [webhook]
"#
    )
}

#[tokio::test]
async fn a_stuck_exporter_is_cut_at_its_own_deadline_and_driftd_exits_cleanly() {
    // A webhook that takes connections and never answers.
    let hook = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = hook.local_addr().unwrap().port();
    let held = std::thread::spawn(move || hook.incoming().take(4).map_while(Result::ok).collect::<Vec<_>>());

    let mut d = Driftd::start(&config(port));
    let points = format!("{}/v1/points", d.url("http_json"));
    let start = SystemTime::now() - Duration::from_secs(500);
    let calm = |i: u64| 100.0 + ((i * 7919) % 100) as f64 / 50.0 - 1.0;
    let batch: serde_json::Value = (0..480u64)
        .map(|i| {
            let value = if i < 400 { calm(i) } else { calm(i) + 40.0 };
            let at = humantime::format_rfc3339(start + Duration::from_secs(i)).to_string();
            json!({"metric": "stuck_ms", "value": value, "timestamp": at, "labels": {"service.name": "api"}})
        })
        .collect();
    let r = reqwest::Client::new().post(&points).json(&batch).send().await.unwrap();
    assert_eq!(r.status(), 202);
    eventually(Duration::from_secs(10), "the drift to be raised", || async {
        d.logs().contains("drift detected").then_some(())
    })
    .await;

    let asked = Instant::now();
    let status = d.stop();
    let took = asked.elapsed();
    let logs = d.logs();
    assert!(status.success(), "a clean exit: {status}\n{logs}");
    assert!(
        logs.contains("exporter did not drain within service.shutdown.exporters"),
        "the log names the deadline that ran out:\n{logs}"
    );
    assert!(!logs.contains("within service.shutdown.receivers"), "{logs}");
    assert!(!logs.contains("within service.shutdown.processors"), "{logs}");
    // The exporters' 2 s, not the 60 s webhook timeout, nor the old shared 10 s.
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(6),
        "shutdown took {took:?}"
    );
    drop(held);
}
