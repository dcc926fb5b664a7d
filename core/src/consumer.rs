//! The consumer chain: each stage hands a batch to the next by a direct call.

use crate::event::DriftEvent;
use crate::incident::Incident;
#[cfg(doc)]
use crate::model::ValueKind;
use crate::model::{Point, SeriesLabels};
use std::sync::Arc;

/// Reads what a [`Point`] does not carry from the request it was decoded from: its
/// labels, and a histogram's buckets.
///
/// `labels` is called only the first time a series is seen, so receivers never build
/// labels for known series.
pub trait LabelSource: Sync {
    /// The labels of the point whose `origin` is given.
    fn labels(&self, origin: u32) -> SeriesLabels;

    /// Fills `out` with the buckets, sum and start time of a [`ValueKind::Histogram`]
    /// point; `false` when the point has none (it is not a histogram, or it came from a
    /// source without buckets).
    fn buckets(&self, origin: u32, out: &mut Buckets) -> bool {
        let _ = (origin, out);
        false
    }
}

/// The buckets of one histogram point, in a buffer the caller reuses.
///
/// As in OTLP: `counts` has one more entry than `bounds`; bucket `i` holds values in
/// `(bounds[i-1], bounds[i]]`, the first one everything up to `bounds[0]` and the last
/// one everything above the last bound. A histogram sent without buckets has no
/// bounds and one count (its total).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Buckets {
    /// Upper bounds, strictly increasing.
    pub bounds: Vec<f64>,
    /// Count per bucket.
    pub counts: Vec<u64>,
    /// Sum of the observations, when the point has a finite one.
    pub sum: Option<f64>,
    /// Start of the point's interval (`start_time_unix_nano`, 0 when not sent): for a
    /// cumulative histogram, a new start time means the source restarted its counts.
    pub start_time_unix_nano: u64,
}

impl Buckets {
    /// Empties the buffer, keeping its memory.
    pub fn clear(&mut self) {
        self.bounds.clear();
        self.counts.clear();
        self.sum = None;
        self.start_time_unix_nano = 0;
    }
}

/// What flows down a pipeline: points (borrowed from the receiver) and the drift
/// events processors derived from them.
#[derive(Clone, Copy)]
pub struct Batch<'a> {
    /// The points, in arrival order.
    pub points: &'a [Point],
    /// Where new series' labels come from.
    pub labels: &'a dyn LabelSource,
    /// Drift events raised while processing these points.
    pub events: &'a [DriftEvent],
    /// Incidents those events opened, changed or resolved (each in its new state).
    pub incidents: &'a [Incident],
}

impl<'a> Batch<'a> {
    /// A batch of points with no events yet.
    pub fn new(points: &'a [Point], labels: &'a dyn LabelSource) -> Self {
        Batch {
            points,
            labels,
            events: &[],
            incidents: &[],
        }
    }

    /// A batch of events without points (raised off the ingest path, e.g. when an idle
    /// drifting series expires).
    pub fn of_events(events: &'a [DriftEvent]) -> Self {
        Batch {
            events,
            ..Batch::new(&[], &NoPoints)
        }
    }

    /// The same points carrying these events.
    pub fn with_events(self, events: &'a [DriftEvent]) -> Batch<'a> {
        Batch { events, ..self }
    }

    /// The same points and events carrying these incident updates.
    pub fn with_incidents(self, incidents: &'a [Incident]) -> Batch<'a> {
        Batch { incidents, ..self }
    }
}

/// The label source of a batch without points: never asked.
struct NoPoints;

impl LabelSource for NoPoints {
    fn labels(&self, _: u32) -> SeriesLabels {
        SeriesLabels::new("", Vec::new())
    }
}

/// Why a stage did not take a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ConsumeError {
    /// Over capacity; the sender should back off and retry (HTTP 429/503, gRPC
    /// RESOURCE_EXHAUSTED, Kafka offset held).
    #[error("driftd is over capacity, retry later")]
    Full,
    /// The pipeline is shutting down.
    #[error("driftd is shutting down")]
    Closed,
}

/// One stage of a pipeline.
pub trait Consumer: Send + Sync {
    /// Takes a batch. Returns once the batch has been processed (not merely queued)
    /// by every stage that processes synchronously.
    fn consume(&self, batch: &Batch<'_>) -> Result<(), ConsumeError>;
}

/// Hands each batch to several consumers (pipelines sharing a receiver, or a
/// pipeline's exporters).
pub struct FanOut {
    next: Vec<Arc<dyn Consumer>>,
}

impl FanOut {
    /// Wraps `next`; a single consumer is returned as it is.
    pub fn of(mut next: Vec<Arc<dyn Consumer>>) -> Arc<dyn Consumer> {
        if next.len() == 1 {
            return next.remove(0);
        }
        Arc::new(FanOut { next })
    }
}

impl Consumer for FanOut {
    fn consume(&self, batch: &Batch<'_>) -> Result<(), ConsumeError> {
        // Every consumer gets the batch even when one fails; the first error is reported.
        let mut result = Ok(());
        for c in &self.next {
            if let Err(e) = c.consume(batch) {
                result = result.and(Err(e));
            }
        }
        result
    }
}

/// A consumer that takes everything and keeps nothing (a pipeline with no pushed
/// exporters).
pub struct Discard;

impl Consumer for Discard {
    fn consume(&self, _: &Batch<'_>) -> Result<(), ConsumeError> {
        Ok(())
    }
}
