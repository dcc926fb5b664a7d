//! What the queue worker hands exports to: the sink traits a pushed exporter
//! implements, the record a point queue holds, and why an export failed.

use crate::event::DriftEvent;
use crate::incident::Incident;
use crate::model::{Point, SeriesId};
use async_trait::async_trait;

/// Why an export failed, so the queue knows whether to retry.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Worth retrying (timeout, 5xx, connection refused).
    #[error("{0}")]
    Transient(String),
    /// Retrying will not help (4xx, rejected data); the events are dropped and counted.
    #[error("{0}")]
    Permanent(String),
}

/// Where a pushed exporter sends events. Driven by the core's queue worker.
#[async_trait]
pub trait EventSink: Send + Sync {
    /// Sends one batch of events.
    async fn export(&self, events: &[DriftEvent]) -> Result<(), ExportError>;
    /// Sends one batch of incident updates (each the incident's whole state after the
    /// change it names). Sinks that only speak of events ignore them.
    async fn export_incidents(&self, incidents: &[Incident]) -> Result<(), ExportError> {
        let _ = incidents;
        Ok(())
    }
    /// Flushes anything buffered (at shutdown).
    async fn flush(&self) -> Result<(), ExportError> {
        Ok(())
    }
}

/// One data point as a point queue holds it: owned and compact (no labels; the series'
/// labels are known by `series_id`, e.g. from drift events and series status).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PointRecord {
    /// The series the point belongs to.
    pub series_id: SeriesId,
    /// Event time, nanoseconds since the Unix epoch.
    pub time_unix_nano: u64,
    /// The measured value.
    pub value: f64,
}

impl From<&Point> for PointRecord {
    fn from(p: &Point) -> Self {
        PointRecord {
            series_id: p.series,
            time_unix_nano: p.time_unix_nano,
            value: p.value,
        }
    }
}

/// Where a pushed exporter that stores raw points sends them. Driven by the core's
/// point queue (bounded, retried, dropping and counting when full), like [`EventSink`].
#[async_trait]
pub trait PointSink: Send + Sync {
    /// Sends one batch of points.
    async fn export_points(&self, points: &[PointRecord]) -> Result<(), ExportError>;
}
