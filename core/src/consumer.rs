//! The consumer chain: each stage hands a batch to the next by a direct call.

use crate::event::DriftEvent;
use crate::model::{Point, SeriesLabels};
use std::sync::Arc;

/// Materialises the labels of a point from the request it was decoded from.
///
/// Called only the first time a series is seen, so receivers never build labels for
/// known series.
pub trait LabelSource: Sync {
    /// The labels of the point whose `origin` is given.
    fn labels(&self, origin: u32) -> SeriesLabels;
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
}

impl<'a> Batch<'a> {
    /// A batch of points with no events yet.
    pub fn new(points: &'a [Point], labels: &'a dyn LabelSource) -> Self {
        Batch {
            points,
            labels,
            events: &[],
        }
    }

    /// The same points carrying these events.
    pub fn with_events(self, events: &'a [DriftEvent]) -> Batch<'a> {
        Batch { events, ..self }
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
