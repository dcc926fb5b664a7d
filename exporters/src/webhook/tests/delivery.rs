//! Delivery through the core's queue: cooldown, grouping, retries, and a hanging
//! endpoint that must not slow ingestion.

use super::*;
use crate::storage::conformance::{sample_event, BASE_TIME, SECOND};
use crate::testing::Counters;
use driftd_core::consumer::{Batch, Consumer, LabelSource};
use driftd_core::queue::{ExportQueue, QueueWorker};
use driftd_core::{EventKind, SeriesLabels};

struct NoLabels;
impl LabelSource for NoLabels {
    fn labels(&self, _: u32) -> SeriesLabels {
        SeriesLabels::new("m", vec![])
    }
}

fn consume(queue: &ExportQueue, events: &[DriftEvent]) {
    queue
        .consume(&Batch::new(&[], &NoLabels).with_events(events))
        .expect("the queue takes events");
}

/// The webhook behind a core queue, its counters in `counters`.
fn queued(config: &WebhookConfig, counters: &Counters) -> (ExportQueue, QueueWorker) {
    metrics::with_local_recorder(counters, || {
        let sink = Arc::new(sink(config));
        ExportQueue::start("webhook/test", sink, config.sending_queue.clone())
    })
}

const FAST_RETRY: &str =
    "sending_queue: {retry_on_failure: {initial_interval: 20ms, max_interval: 50ms, max_elapsed_time: 5s}}";

fn event(service: &str, kind: EventKind, s: u64) -> DriftEvent {
    sample_event("latency_ms", service, kind, BASE_TIME + s * SECOND)
}

#[tokio::test]
async fn cooldown_suppresses_a_flapping_series_and_counts_it() {
    let server = Server::start().await;
    let counters = Counters::default();
    let c = config(&server, Format::Generic, "cooldown: 5m");
    let sink = metrics::with_local_recorder(&counters, || sink(&c));
    for (kind, s) in [
        (EventKind::DriftStart, 0),
        (EventKind::DriftEnd, 60),
        (EventKind::DriftStart, 120),
        (EventKind::DriftEnd, 180),
        (EventKind::DriftStart, 400),
    ] {
        export(&sink, &[event("checkout", kind, s)]).await;
    }
    let sent: Vec<(String, String)> = server
        .wait_for(3)
        .await
        .iter()
        .map(|r| {
            let e = &r.body["events"][0];
            (
                e["kind"].as_str().unwrap().to_string(),
                e["timestamp"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        sent,
        [
            ("drift_start".to_string(), "2026-01-12T10:30:45Z".to_string()),
            ("drift_end".to_string(), "2026-01-12T10:31:45Z".to_string()),
            ("drift_start".to_string(), "2026-01-12T10:37:25Z".to_string()),
        ],
        "the start 2 minutes after the last one, and its end, are held back"
    );
    assert_eq!(
        counters.get("driftd_webhook_suppressed_events_total{exporter=webhook/test}"),
        2
    );
}

#[tokio::test]
async fn events_within_the_group_window_become_one_message() {
    let server = Server::start().await;
    let counters = Counters::default();
    let c = config(&server, Format::Slack, "group_window: 1s");
    let (queue, worker) = queued(&c, &counters);
    consume(&queue, &[event("a", EventKind::DriftStart, 0)]);
    server.wait_for(1).await;
    // These arrive while the window after the first message is open.
    consume(&queue, &[event("b", EventKind::DriftStart, 1)]);
    tokio::time::sleep(Duration::from_millis(50)).await;
    consume(
        &queue,
        &[
            event("c", EventKind::DriftStart, 2),
            event("d", EventKind::DriftStart, 3),
        ],
    );
    let requests = server.wait_for(2).await;
    worker.drain(Duration::from_secs(5)).await;
    let requests_after = server.requests();
    assert_eq!(requests_after.len(), 2, "two messages in all");
    assert_eq!(requests[0].body["blocks"].as_array().unwrap().len(), 1);
    assert_eq!(
        requests[1].body["blocks"].as_array().unwrap().len(),
        3,
        "b, c and d together"
    );
    assert_eq!(requests[1].body["text"], "driftd: 3 series drifted");
    assert!(requests[1].at - requests[0].at >= Duration::from_millis(950));
}

#[tokio::test]
async fn a_503_is_retried_until_it_succeeds() {
    let server = Server::start().await;
    server.script(&[Reply::Status(503), Reply::Status(502)]);
    let counters = Counters::default();
    let (queue, worker) = queued(&config(&server, Format::Generic, FAST_RETRY), &counters);
    let e = event("a", EventKind::DriftStart, 0);
    consume(&queue, std::slice::from_ref(&e));
    let requests = server.wait_for(3).await;
    worker.drain(Duration::from_secs(5)).await;
    assert_eq!(server.requests().len(), 3, "503, 502, then 200");
    assert!(
        requests.iter().all(|r| r.body == requests[0].body),
        "the same message each time"
    );
    assert_eq!(counters.get("driftd_exporter_retries_total{exporter=webhook/test}"), 2);
    assert_eq!(
        counters.get("driftd_exporter_sent_events_total{exporter=webhook/test}"),
        1
    );
}

#[tokio::test]
async fn a_400_is_not_retried() {
    let server = Server::start().await;
    server.otherwise(Reply::Status(400));
    let counters = Counters::default();
    let (queue, worker) = queued(&config(&server, Format::Generic, FAST_RETRY), &counters);
    consume(&queue, &[event("a", EventKind::DriftStart, 0)]);
    server.wait_for(1).await;
    worker.drain(Duration::from_secs(5)).await;
    assert_eq!(server.requests().len(), 1, "a client error is final");
    assert_eq!(counters.get("driftd_exporter_retries_total{exporter=webhook/test}"), 0);
    assert_eq!(
        counters.get("driftd_exporter_dropped_events_total{exporter=webhook/test,reason=export_failed}"),
        1
    );
}

#[tokio::test]
async fn a_hanging_endpoint_does_not_slow_ingestion() {
    let server = Server::start().await;
    server.otherwise(Reply::Hang);
    let counters = Counters::default();
    let c = config(
        &server,
        Format::Generic,
        "{timeout: 300ms, sending_queue: {queue_size: 5, batch_size: 1}}",
    );
    let (queue, _worker) = queued(&c, &counters);
    let events: Vec<DriftEvent> = (0..2_000)
        .map(|i| event(&format!("s{i}"), EventKind::DriftStart, i))
        .collect();
    let started = Instant::now();
    for chunk in events.chunks(10) {
        consume(&queue, chunk);
    }
    let took = started.elapsed();
    assert!(
        took < Duration::from_millis(500),
        "2000 events took {took:?} to hand over"
    );
    let dropped = counters.get("driftd_exporter_dropped_events_total{exporter=webhook/test,reason=queue_full}");
    assert!(dropped >= 2_000 - 6, "a full queue drops and counts: {dropped}");
    server.wait_for(1).await;
    // The request times out and is retried: the endpoint sees it again.
    server.wait_for(2).await;
    assert!(counters.get("driftd_exporter_retries_total{exporter=webhook/test}") >= 1);
}
