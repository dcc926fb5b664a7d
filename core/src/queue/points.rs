//! The point side of a pushed exporter that stores raw points: each batch's points are
//! copied into compact owned records (one allocation per batch) and handed to a
//! [`PointSink`] by the same worker and retry loop as events. The queue is bounded in
//! points; when it is full, points are dropped and counted, and ingestion never waits.

use super::{export_counted, Bounded, Delivery, Item, QueueMetrics, QueueSettings, QueueWorker};
use crate::consumer::{Batch, ConsumeError, Consumer};
use crate::sink::{PointRecord, PointSink};
use std::sync::Arc;

impl Item for Vec<PointRecord> {
    fn units(&self) -> usize {
        self.len()
    }
}

/// The pipeline-facing end of an exporter's point queue.
pub struct PointQueue(Bounded<Vec<PointRecord>>);

impl PointQueue {
    /// Starts the worker for `sink`; `settings.queue_size` counts points.
    pub fn start(name: &str, sink: Arc<dyn PointSink>, settings: QueueSettings) -> (Self, QueueWorker) {
        let delivery = PointDelivery {
            name: name.to_string(),
            sink,
            settings: settings.clone(),
            points: Vec::new(),
        };
        let (queue, worker) = Bounded::start(name, &settings, QueueMetrics::for_points(name), delivery);
        (PointQueue(queue), worker)
    }
}

impl Consumer for PointQueue {
    fn consume(&self, batch: &Batch<'_>) -> Result<(), ConsumeError> {
        let n = batch.points.len();
        if n == 0 {
            return Ok(());
        }
        let fits = self.0.reserve(n);
        if fits < n {
            self.0.dropped_full(n - fits);
        }
        if fits == 0 {
            return Ok(());
        }
        self.0
            .send(batch.points[..fits].iter().map(PointRecord::from).collect())
    }
}

struct PointDelivery {
    name: String,
    sink: Arc<dyn PointSink>,
    settings: QueueSettings,
    /// The received batches joined, reused between rounds.
    points: Vec<PointRecord>,
}

#[async_trait::async_trait]
impl Delivery<Vec<PointRecord>> for PointDelivery {
    /// Joins the received batches and sends them `batch_size` points at a time.
    async fn deliver(&mut self, items: Vec<Vec<PointRecord>>, metrics: &QueueMetrics) {
        for records in items {
            self.points.extend_from_slice(&records);
        }
        let (name, retry, sink) = (&self.name, &self.settings.retry_on_failure, &self.sink);
        for chunk in self.points.chunks(self.settings.batch_size.get()) {
            export_counted(name, retry, chunk.len(), metrics, || sink.export_points(chunk)).await;
        }
        self.points.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consumer::LabelSource;
    use crate::model::{Point, SeriesId, SeriesLabels, ValueKind};
    use crate::queue::RetrySettings;
    use crate::sink::ExportError;
    use std::num::NonZeroUsize;
    use std::sync::atomic::Ordering;
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
        assert!(queue.0.queued.load(Ordering::Acquire) <= 10);
        assert_eq!(queue.0.reserve(1), 0, "full: nothing more fits");
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
