//! The bounded queue, worker and retry loop every pushed exporter gets, written once:
//! events and incident updates ([`ExportQueue`], `events.rs`) and raw points
//! ([`PointQueue`], `points.rs`) differ only in what they carry and how a batch is
//! handed to the sink. A slow or dead sink fills its queue and then drops (counted); it
//! never blocks the pipeline that feeds it.

use crate::consumer::ConsumeError;
use crate::sink::ExportError;
use metrics::{Counter, Gauge};
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
mod events;
mod points;
mod settings;
pub use events::ExportQueue;
pub use points::PointQueue;
pub use settings::{QueueSettings, RetrySettings};

/// The counters of one queue, in what it counts (events or points).
struct QueueMetrics {
    sent: Counter,
    dropped_full: Counter,
    dropped_failed: Counter,
    retries: Counter,
    depth: Gauge,
    capacity: Gauge,
}

impl QueueMetrics {
    fn for_events(exporter: &str) -> Self {
        let e = exporter.to_string();
        QueueMetrics {
            sent: metrics::counter!("driftd_exporter_sent_events_total", "exporter" => e.clone()),
            dropped_full: metrics::counter!("driftd_exporter_dropped_events_total", "exporter" => e.clone(), "reason" => "queue_full"),
            dropped_failed: metrics::counter!("driftd_exporter_dropped_events_total", "exporter" => e.clone(), "reason" => "export_failed"),
            retries: metrics::counter!("driftd_exporter_retries_total", "exporter" => e.clone()),
            depth: metrics::gauge!("driftd_exporter_queue_size", "exporter" => e.clone(), "unit" => "events"),
            capacity: metrics::gauge!("driftd_exporter_queue_capacity", "exporter" => e, "unit" => "events"),
        }
    }

    fn for_points(exporter: &str) -> Self {
        let e = exporter.to_string();
        QueueMetrics {
            sent: metrics::counter!("driftd_exporter_sent_points_total", "exporter" => e.clone()),
            dropped_full: metrics::counter!("driftd_exporter_dropped_points_total", "exporter" => e.clone(), "reason" => "queue_full"),
            dropped_failed: metrics::counter!("driftd_exporter_dropped_points_total", "exporter" => e.clone(), "reason" => "export_failed"),
            retries: metrics::counter!("driftd_exporter_retries_total", "exporter" => e.clone()),
            depth: metrics::gauge!("driftd_exporter_queue_size", "exporter" => e.clone(), "unit" => "points"),
            capacity: metrics::gauge!("driftd_exporter_queue_capacity", "exporter" => e, "unit" => "points"),
        }
    }
}

/// What a queue carries, and how much of its capacity one item takes.
trait Item: Send + 'static {
    fn units(&self) -> usize;
}

/// How a queue's worker hands a batch of items to its sink (with retries, counting
/// what was sent and what was dropped), and what it does once the queue is drained.
#[async_trait::async_trait]
trait Delivery<T: Item>: Send + 'static {
    async fn deliver(&mut self, items: Vec<T>, metrics: &QueueMetrics);
    async fn finish(&mut self) {}
}

/// The pipeline-facing end of a queue: bounded in units (events or points) by an
/// atomic count, so a full queue drops at once and ingestion never waits.
struct Bounded<T> {
    name: String,
    tx: mpsc::UnboundedSender<T>,
    /// Units sent to the worker and not yet taken by it; at most `capacity`.
    queued: Arc<AtomicUsize>,
    capacity: usize,
    metrics: Arc<QueueMetrics>,
}

impl<T: Item> Bounded<T> {
    /// Starts the worker that drains the queue into `delivery`.
    fn start(
        name: &str,
        settings: &QueueSettings,
        metrics: QueueMetrics,
        delivery: impl Delivery<T>,
    ) -> (Self, QueueWorker) {
        let (tx, rx) = mpsc::unbounded_channel();
        let queued = Arc::new(AtomicUsize::new(0));
        let metrics = Arc::new(metrics);
        metrics.capacity.set(settings.queue_size.get() as f64);
        let closing = CancellationToken::new();
        let handle = tokio::spawn(run_worker(
            delivery,
            settings.batch_size.get(),
            rx,
            queued.clone(),
            metrics.clone(),
            closing.clone(),
        ));
        let queue = Bounded {
            name: name.to_string(),
            tx,
            queued,
            capacity: settings.queue_size.get(),
            metrics,
        };
        let worker = QueueWorker {
            name: name.to_string(),
            closing,
            handle,
        };
        (queue, worker)
    }

    /// Reserves room for up to `n` units; returns how many fit.
    fn reserve(&self, n: usize) -> usize {
        let room = |queued: usize| self.capacity.saturating_sub(queued).min(n);
        match self.queued.fetch_update(Ordering::AcqRel, Ordering::Acquire, |q| {
            (room(q) > 0).then(|| q + room(q))
        }) {
            Ok(before) => room(before),
            Err(_) => 0,
        }
    }

    /// Hands `item`, whose units were reserved, to the worker.
    fn send(&self, item: T) -> Result<(), ConsumeError> {
        let units = item.units();
        match self.tx.send(item) {
            Ok(()) => {
                self.metrics.depth.increment(units as f64);
                Ok(())
            }
            Err(_) => {
                self.queued.fetch_sub(units, Ordering::AcqRel);
                Err(ConsumeError::Closed)
            }
        }
    }

    /// Counts `n` units dropped because the queue was full.
    fn dropped_full(&self, n: usize) {
        self.metrics.dropped_full.increment(n as u64);
        tracing::debug!(exporter = %self.name, dropped = n, "queue full, dropped");
    }
}

/// The worker draining one queue.
pub struct QueueWorker {
    name: String,
    closing: CancellationToken,
    handle: JoinHandle<()>,
}

impl QueueWorker {
    /// Refuses new items, exports what is queued, flushes the sink, and returns;
    /// gives up (and says so) when `grace` runs out.
    pub async fn drain(mut self, grace: Duration) {
        self.closing.cancel();
        if tokio::time::timeout(grace, &mut self.handle).await.is_err() {
            self.handle.abort();
            tracing::warn!(exporter = %self.name, "exporter did not drain within service.shutdown.exporters: queued items were dropped");
        }
    }
}

/// The one worker loop: takes up to `max` items at a time and delivers them, until the
/// queue is closed (at shutdown) and empty.
async fn run_worker<T: Item>(
    mut delivery: impl Delivery<T>,
    max: usize,
    mut rx: mpsc::UnboundedReceiver<T>,
    queued: Arc<AtomicUsize>,
    metrics: Arc<QueueMetrics>,
    closing: CancellationToken,
) {
    let mut batch = Vec::with_capacity(max);
    loop {
        let received = tokio::select! {
            n = rx.recv_many(&mut batch, max) => n,
            _ = closing.cancelled(), if !rx.is_closed() => {
                // Stop taking new items; keep exporting what is already queued.
                rx.close();
                continue;
            }
        };
        if received == 0 {
            break;
        }
        let units: usize = batch.iter().map(Item::units).sum();
        queued.fetch_sub(units, Ordering::AcqRel);
        metrics.depth.decrement(units as f64);
        delivery
            .deliver(std::mem::replace(&mut batch, Vec::with_capacity(max)), &metrics)
            .await;
    }
    delivery.finish().await;
}

/// Exports `items` units with `send` and counts the outcome in `metrics`.
async fn export_counted<F: Future<Output = Result<(), ExportError>>>(
    name: &str,
    retry: &RetrySettings,
    items: usize,
    metrics: &QueueMetrics,
    send: impl FnMut() -> F,
) {
    match export_with_retry(name, retry, items, &metrics.retries, send).await {
        Ok(()) => metrics.sent.increment(items as u64),
        Err(e) => {
            metrics.dropped_failed.increment(items as u64);
            tracing::warn!(exporter = %name, items, error = %e, "export failed, dropped");
        }
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
    use crate::consumer::{Batch, Consumer};
    use crate::event::DriftEvent;
    use crate::event::{EventKind, Stats};
    use crate::model::{SeriesId, SeriesLabels};
    use crate::sink::EventSink;
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
