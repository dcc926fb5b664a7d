//! The bounded queue, worker and retry loop every pushed exporter gets, written once.
//! A slow or dead sink fills its queue and then drops (counted); it never blocks the
//! pipeline that feeds it.

use crate::component::{EventSink, ExportError};
use crate::consumer::{Batch, ConsumeError, Consumer};
use crate::event::DriftEvent;
use crate::incident::Incident;
use metrics::{Counter, Gauge};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
mod points;
mod settings;
pub use points::PointQueue;
pub use settings::{QueueSettings, RetrySettings};

struct QueueMetrics {
    sent: Counter,
    dropped_full: Counter,
    dropped_failed: Counter,
    retries: Counter,
    depth: Gauge,
}

impl QueueMetrics {
    fn new(exporter: &str) -> Self {
        let e = exporter.to_string();
        QueueMetrics {
            sent: metrics::counter!("driftd_exporter_sent_events_total", "exporter" => e.clone()),
            dropped_full: metrics::counter!("driftd_exporter_dropped_events_total", "exporter" => e.clone(), "reason" => "queue_full"),
            dropped_failed: metrics::counter!("driftd_exporter_dropped_events_total", "exporter" => e.clone(), "reason" => "export_failed"),
            retries: metrics::counter!("driftd_exporter_retries_total", "exporter" => e.clone()),
            depth: metrics::gauge!("driftd_exporter_queue_size", "exporter" => e),
        }
    }
}

/// What an exporter's queue holds, in the order the pipeline produced it.
#[derive(Debug)]
enum Queued {
    Event(DriftEvent),
    Incident(Incident),
}

/// The pipeline-facing end of an exporter's queue.
pub struct ExportQueue {
    name: String,
    tx: mpsc::Sender<Queued>,
    metrics: Arc<QueueMetrics>,
}

/// The worker draining one queue.
pub struct QueueWorker {
    name: String,
    closing: CancellationToken,
    handle: JoinHandle<()>,
}

impl QueueWorker {
    /// Refuses new events, exports what is queued, flushes the sink, and returns;
    /// gives up (and says how many events were lost) when `grace` runs out.
    pub async fn drain(mut self, grace: Duration) {
        self.closing.cancel();
        if tokio::time::timeout(grace, &mut self.handle).await.is_err() {
            self.handle.abort();
            tracing::warn!(exporter = %self.name, "exporter did not drain within the grace period; queued events were dropped");
        }
    }
}

impl ExportQueue {
    /// Starts the worker for `sink`.
    pub fn start(name: &str, sink: Arc<dyn EventSink>, settings: QueueSettings) -> (Self, QueueWorker) {
        let (tx, rx) = mpsc::channel(settings.queue_size.get());
        let metrics = Arc::new(QueueMetrics::new(name));
        metrics::gauge!("driftd_exporter_queue_capacity", "exporter" => name.to_string())
            .set(settings.queue_size.get() as f64);
        let closing = CancellationToken::new();
        let handle = tokio::spawn(run_worker(
            name.to_string(),
            sink,
            settings,
            rx,
            metrics.clone(),
            closing.clone(),
        ));
        (
            ExportQueue {
                name: name.to_string(),
                tx,
                metrics,
            },
            QueueWorker {
                name: name.to_string(),
                closing,
                handle,
            },
        )
    }
}

impl Consumer for ExportQueue {
    fn consume(&self, batch: &Batch<'_>) -> Result<(), ConsumeError> {
        let events = batch.events.iter().map(|e| Queued::Event(e.clone()));
        let incidents = batch.incidents.iter().map(|i| Queued::Incident(i.clone()));
        for item in events.chain(incidents) {
            match self.tx.try_send(item) {
                Ok(()) => self.metrics.depth.increment(1.0),
                Err(mpsc::error::TrySendError::Full(_)) => {
                    self.metrics.dropped_full.increment(1);
                    tracing::debug!(exporter = %self.name, "queue full, event dropped");
                }
                Err(mpsc::error::TrySendError::Closed(_)) => return Err(ConsumeError::Closed),
            }
        }
        Ok(())
    }
}

async fn run_worker(
    name: String,
    sink: Arc<dyn EventSink>,
    settings: QueueSettings,
    mut rx: mpsc::Receiver<Queued>,
    metrics: Arc<QueueMetrics>,
    closing: CancellationToken,
) {
    let max = settings.batch_size.get();
    let mut batch = Vec::with_capacity(max);
    loop {
        let received = tokio::select! {
            n = rx.recv_many(&mut batch, max) => n,
            _ = closing.cancelled(), if !rx.is_closed() => {
                // Stop taking new events; keep exporting what is already queued.
                rx.close();
                continue;
            }
        };
        if received == 0 {
            break;
        }
        metrics.depth.decrement(batch.len() as f64);
        // Events and incident updates go out in their order, each run in one call.
        let mut items = batch.drain(..).peekable();
        while let Some(first) = items.next() {
            let (run, result) = match first {
                Queued::Event(e) => {
                    let mut events = vec![e];
                    while let Some(Queued::Event(e)) = items.next_if(|q| matches!(q, Queued::Event(_))) {
                        events.push(e);
                    }
                    let send = || sink.export(&events);
                    let result =
                        export_with_retry(&name, &settings.retry_on_failure, events.len(), &metrics.retries, send)
                            .await;
                    (events.len(), result)
                }
                Queued::Incident(i) => {
                    let mut incidents = vec![i];
                    while let Some(Queued::Incident(i)) = items.next_if(|q| matches!(q, Queued::Incident(_))) {
                        incidents.push(i);
                    }
                    let send = || sink.export_incidents(&incidents);
                    let result = export_with_retry(
                        &name,
                        &settings.retry_on_failure,
                        incidents.len(),
                        &metrics.retries,
                        send,
                    )
                    .await;
                    (incidents.len(), result)
                }
            };
            match result {
                Ok(()) => metrics.sent.increment(run as u64),
                Err(e) => {
                    metrics.dropped_failed.increment(run as u64);
                    tracing::warn!(exporter = %name, items = run, error = %e, "export failed, dropped");
                }
            }
        }
    }
    if let Err(e) = sink.flush().await {
        tracing::warn!(exporter = %name, error = %e, "flush failed at shutdown");
    }
}

/// Calls `send` (a batch of `items`) until it succeeds, fails for good or time runs out.
async fn export_with_retry<F: Future<Output = Result<(), ExportError>>>(
    name: &str,
    retry: &RetrySettings,
    items: usize,
    retries: &Counter,
    mut send: impl FnMut() -> F,
) -> Result<(), ExportError> {
    let started = tokio::time::Instant::now();
    let mut attempt = 0;
    loop {
        match send().await {
            Ok(()) => return Ok(()),
            Err(ExportError::Transient(msg)) if retry.enabled => {
                let wait = retry.backoff(attempt, jitter(attempt, items));
                if started.elapsed() + wait > retry.max_elapsed_time {
                    return Err(ExportError::Transient(format!(
                        "{msg} (gave up after {attempt} retries)"
                    )));
                }
                tracing::debug!(exporter = %name, error = %msg, ?wait, "export failed, retrying");
                retries.increment(1);
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Cheap jitter in [0, 1) without a random number generator: it only needs to
/// differ between exporters and attempts.
fn jitter(attempt: u32, n: usize) -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let x =
        xxhash_rust::xxh3::xxh3_64(&[nanos.to_le_bytes(), attempt.to_le_bytes(), (n as u32).to_le_bytes()].concat());
    (x >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consumer::LabelSource;
    use crate::event::{EventKind, Stats};
    use crate::model::{SeriesId, SeriesLabels};
    use std::num::NonZeroUsize;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;

    struct NoLabels;
    impl LabelSource for NoLabels {
        fn labels(&self, _: u32) -> SeriesLabels {
            SeriesLabels::new("m", vec![])
        }
    }

    fn event(i: u64) -> DriftEvent {
        DriftEvent {
            id: i.to_string(),
            kind: EventKind::DriftStart,
            series_id: SeriesId(i),
            series: Arc::new(SeriesLabels::new("m", vec![])),
            timestamp: i,
            onset: i,
            detector: "zscore".into(),
            severity: None,
            reason: None,
            value: 0.0,
            scores: Default::default(),
            baseline: Stats::default(),
            recent: Stats::default(),
            acknowledged: false,
            incident: None,
            snapshot: None,
        }
    }

    /// Fails with the given errors first, then records what it gets.
    struct Scripted {
        failures: Mutex<Vec<ExportError>>,
        calls: AtomicUsize,
        got: Mutex<Vec<String>>,
    }

    #[async_trait::async_trait]
    impl EventSink for Scripted {
        async fn export(&self, events: &[DriftEvent]) -> Result<(), ExportError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if let Some(e) = self.failures.lock().unwrap().pop() {
                return Err(e);
            }
            self.got.lock().unwrap().extend(events.iter().map(|e| e.id.clone()));
            Ok(())
        }
    }

    fn settings(size: usize) -> QueueSettings {
        QueueSettings {
            queue_size: NonZeroUsize::new(size).unwrap(),
            batch_size: NonZeroUsize::new(100).unwrap(),
            retry_on_failure: RetrySettings {
                initial_interval: Duration::from_millis(1),
                max_interval: Duration::from_millis(5),
                ..RetrySettings::default()
            },
        }
    }

    #[tokio::test]
    async fn transient_failures_are_retried_and_permanent_ones_dropped() {
        let sink = Arc::new(Scripted {
            // popped from the back: transient, then permanent
            failures: Mutex::new(vec![
                ExportError::Permanent("400".into()),
                ExportError::Transient("503".into()),
            ]),
            calls: AtomicUsize::new(0),
            got: Mutex::new(Vec::new()),
        });
        let (queue, worker) = ExportQueue::start("t", sink.clone(), settings(10));
        let events = [event(1)];
        queue.consume(&Batch::new(&[], &NoLabels).with_events(&events)).unwrap();
        worker.drain(Duration::from_secs(5)).await;
        // Closed: new events are refused.
        assert_eq!(
            queue.consume(&Batch::new(&[], &NoLabels).with_events(&events)),
            Err(ConsumeError::Closed)
        );
        // First batch: transient (retried) then permanent (dropped): nothing delivered.
        assert_eq!(sink.calls.load(Ordering::SeqCst), 2);
        assert!(sink.got.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_full_queue_drops_instead_of_blocking() {
        struct Stuck;
        #[async_trait::async_trait]
        impl EventSink for Stuck {
            async fn export(&self, _: &[DriftEvent]) -> Result<(), ExportError> {
                std::future::pending().await
            }
        }
        let (queue, _worker) = ExportQueue::start("stuck", Arc::new(Stuck), settings(2));
        let events: Vec<_> = (0..50).map(event).collect();
        // Returns at once although the sink never completes.
        let r = tokio::time::timeout(Duration::from_millis(200), async {
            queue.consume(&Batch::new(&[], &NoLabels).with_events(&events))
        })
        .await;
        assert_eq!(r, Ok(Ok(())));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let r = RetrySettings::default();
        assert_eq!(r.backoff(0, 0.5), Duration::from_secs(1));
        assert_eq!(r.backoff(2, 0.5), Duration::from_secs(4));
        assert_eq!(r.backoff(20, 0.5), Duration::from_secs(30));
        assert!(r.backoff(0, 0.0) < r.backoff(0, 1.0));
    }
}
