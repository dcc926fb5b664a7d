//! The point side of a pushed exporter that stores raw points: each batch's points are
//! copied into compact owned records (one allocation per batch) and handed to a
//! [`PointSink`] by the same worker and retry loop as events. The queue is bounded in
//! points; when it is full, points are dropped and counted, and ingestion never waits.

use super::{export_with_retry, QueueSettings, QueueWorker};
use crate::component::{PointRecord, PointSink};
use crate::consumer::{Batch, ConsumeError, Consumer};
use metrics::Counter;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

struct PointMetrics {
    sent: Counter,
    dropped_full: Counter,
    dropped_failed: Counter,
    retries: Counter,
}

impl PointMetrics {
    fn new(exporter: &str) -> Self {
        let e = exporter.to_string();
        PointMetrics {
            sent: metrics::counter!("driftd_exporter_sent_points_total", "exporter" => e.clone()),
            dropped_full: metrics::counter!("driftd_exporter_dropped_points_total", "exporter" => e.clone(), "reason" => "queue_full"),
            dropped_failed: metrics::counter!("driftd_exporter_dropped_points_total", "exporter" => e.clone(), "reason" => "export_failed"),
            retries: metrics::counter!("driftd_exporter_retries_total", "exporter" => e),
        }
    }
}

/// The pipeline-facing end of an exporter's point queue.
pub struct PointQueue {
    name: String,
    tx: mpsc::UnboundedSender<Vec<PointRecord>>,
    /// Points sent to the worker and not yet taken by it; at most `capacity`.
    queued: Arc<AtomicUsize>,
    capacity: usize,
    metrics: Arc<PointMetrics>,
}

impl PointQueue {
    /// Starts the worker for `sink`; `settings.queue_size` counts points.
    pub fn start(name: &str, sink: Arc<dyn PointSink>, settings: QueueSettings) -> (Self, QueueWorker) {
        let (tx, rx) = mpsc::unbounded_channel();
        let queued = Arc::new(AtomicUsize::new(0));
        let metrics = Arc::new(PointMetrics::new(name));
        let closing = CancellationToken::new();
        let capacity = settings.queue_size.get();
        let handle = tokio::spawn(run_worker(
            name.to_string(),
            sink,
            settings,
            rx,
            queued.clone(),
            metrics.clone(),
            closing.clone(),
        ));
        let queue = PointQueue {
            name: name.to_string(),
            tx,
            queued,
            capacity,
            metrics,
        };
        let worker = QueueWorker {
            name: name.to_string(),
            closing,
            handle,
        };
        (queue, worker)
    }

    /// Reserves room for up to `n` points; returns how many fit.
    fn reserve(&self, n: usize) -> usize {
        let room = |queued: usize| self.capacity.saturating_sub(queued).min(n);
        match self.queued.fetch_update(Ordering::AcqRel, Ordering::Acquire, |q| {
            (room(q) > 0).then(|| q + room(q))
        }) {
            Ok(before) => room(before),
            Err(_) => 0,
        }
    }
}

impl Consumer for PointQueue {
    fn consume(&self, batch: &Batch<'_>) -> Result<(), ConsumeError> {
        let n = batch.points.len();
        if n == 0 {
            return Ok(());
        }
        let fits = self.reserve(n);
        if fits < n {
            self.metrics.dropped_full.increment((n - fits) as u64);
            tracing::debug!(exporter = %self.name, dropped = n - fits, "point queue full, points dropped");
        }
        if fits == 0 {
            return Ok(());
        }
        let records: Vec<PointRecord> = batch.points[..fits].iter().map(PointRecord::from).collect();
        if self.tx.send(records).is_err() {
            self.queued.fetch_sub(fits, Ordering::AcqRel);
            return Err(ConsumeError::Closed);
        }
        Ok(())
    }
}

async fn run_worker(
    name: String,
    sink: Arc<dyn PointSink>,
    settings: QueueSettings,
    mut rx: mpsc::UnboundedReceiver<Vec<PointRecord>>,
    queued: Arc<AtomicUsize>,
    metrics: Arc<PointMetrics>,
    closing: CancellationToken,
) {
    let max = settings.batch_size.get();
    let mut received = Vec::new();
    let mut points: Vec<PointRecord> = Vec::with_capacity(max);
    loop {
        let n = tokio::select! {
            n = rx.recv_many(&mut received, max) => n,
            _ = closing.cancelled(), if !rx.is_closed() => {
                // Stop taking new points; keep exporting what is already queued.
                rx.close();
                continue;
            }
        };
        if n == 0 {
            break;
        }
        for records in received.drain(..) {
            points.extend_from_slice(&records);
        }
        queued.fetch_sub(points.len(), Ordering::AcqRel);
        for chunk in points.chunks(max) {
            let send = || sink.export_points(chunk);
            match export_with_retry(&name, &settings.retry_on_failure, chunk.len(), &metrics.retries, send).await {
                Ok(()) => metrics.sent.increment(chunk.len() as u64),
                Err(e) => {
                    metrics.dropped_failed.increment(chunk.len() as u64);
                    tracing::warn!(exporter = %name, points = chunk.len(), error = %e, "export failed, points dropped");
                }
            }
        }
        points.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::component::ExportError;
    use crate::consumer::LabelSource;
    use crate::model::{Point, SeriesId, SeriesLabels, ValueKind};
    use crate::queue::RetrySettings;
    use std::num::NonZeroUsize;
    use std::sync::Mutex;
    use std::time::Duration;

    struct NoLabels;
    impl LabelSource for NoLabels {
        fn labels(&self, _: u32) -> SeriesLabels {
            SeriesLabels::new("m", vec![])
        }
    }

    fn points(n: u64) -> Vec<Point> {
        (0..n)
            .map(|i| Point {
                series: SeriesId(i % 3),
                time_unix_nano: 1_000 + i,
                value: i as f64 / 2.0,
                kind: ValueKind::Gauge,
                origin: 0,
            })
            .collect()
    }

    fn settings(size: usize) -> QueueSettings {
        QueueSettings {
            queue_size: NonZeroUsize::new(size).unwrap(),
            batch_size: NonZeroUsize::new(4).unwrap(),
            retry_on_failure: RetrySettings {
                initial_interval: Duration::from_millis(1),
                max_interval: Duration::from_millis(5),
                ..RetrySettings::default()
            },
        }
    }

    #[tokio::test]
    async fn a_full_point_queue_drops_instead_of_blocking() {
        struct Stuck;
        #[async_trait::async_trait]
        impl PointSink for Stuck {
            async fn export_points(&self, _: &[PointRecord]) -> Result<(), ExportError> {
                std::future::pending().await
            }
        }
        let (queue, _worker) = PointQueue::start("stuck", Arc::new(Stuck), settings(10));
        let pts = points(50);
        // Returns at once although the sink never completes, again and again.
        let r = tokio::time::timeout(Duration::from_millis(200), async {
            for _ in 0..100 {
                queue.consume(&Batch::new(&pts, &NoLabels))?;
            }
            Ok::<(), ConsumeError>(())
        })
        .await;
        assert_eq!(r, Ok(Ok(())));
        // The worker holds one stuck batch; what waits behind it never exceeds the bound.
        assert!(queue.queued.load(Ordering::Acquire) <= 10);
        assert_eq!(queue.reserve(1), 0, "full: nothing more fits");
    }

    #[tokio::test]
    async fn points_are_copied_batched_and_retried() {
        struct Recording {
            failures: Mutex<Vec<ExportError>>,
            got: Mutex<Vec<Vec<PointRecord>>>,
        }
        #[async_trait::async_trait]
        impl PointSink for Recording {
            async fn export_points(&self, p: &[PointRecord]) -> Result<(), ExportError> {
                if let Some(e) = self.failures.lock().unwrap().pop() {
                    return Err(e);
                }
                self.got.lock().unwrap().push(p.to_vec());
                Ok(())
            }
        }
        let sink = Arc::new(Recording {
            failures: Mutex::new(vec![ExportError::Transient("503".into())]),
            got: Mutex::new(Vec::new()),
        });
        let (queue, worker) = PointQueue::start("rec", sink.clone(), settings(100));
        let pts = points(10);
        queue.consume(&Batch::new(&pts, &NoLabels)).unwrap();
        queue.consume(&Batch::new(&[], &NoLabels)).unwrap();
        worker.drain(Duration::from_secs(5)).await;
        assert_eq!(queue.consume(&Batch::new(&pts, &NoLabels)), Err(ConsumeError::Closed));
        let got = sink.got.lock().unwrap();
        assert!(got.iter().all(|b| b.len() <= 4), "at most batch_size per call");
        let flat: Vec<PointRecord> = got.iter().flatten().copied().collect();
        let want: Vec<PointRecord> = pts.iter().map(PointRecord::from).collect();
        assert_eq!(flat, want);
    }
}
