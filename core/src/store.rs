//! The storage trait: event history behind the query API. One implementation per
//! backend lives in the exporters crate; every backend passes the same tests.

use crate::event::{DriftEvent, EventKind};
use crate::model::SeriesId;
use async_trait::async_trait;

/// Which events to return, newest first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EventQuery {
    /// Only this series.
    pub series: Option<SeriesId>,
    /// Only series of this metric name.
    pub metric: Option<String>,
    /// Only series of this service.
    pub service: Option<String>,
    /// Only this kind.
    pub kind: Option<EventKind>,
    /// Event time at or after (ns).
    pub since: Option<u64>,
    /// Event time before (ns).
    pub until: Option<u64>,
    /// Page size.
    pub limit: usize,
    /// Events to skip.
    pub offset: usize,
}

impl EventQuery {
    /// Whether an event passes the filters (not the paging).
    pub fn matches(&self, e: &DriftEvent) -> bool {
        self.series.is_none_or(|s| s == e.series_id)
            && self.metric.as_deref().is_none_or(|m| m == e.series.metric)
            && self.service.as_deref().is_none_or(|s| Some(s) == e.series.service())
            && self.kind.is_none_or(|k| k == e.kind)
            && self.since.is_none_or(|t| e.timestamp >= t)
            && self.until.is_none_or(|t| e.timestamp < t)
    }
}

/// One page of events and how many matched in all.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EventPage {
    /// The page, newest first.
    pub events: Vec<DriftEvent>,
    /// Matching events in all pages.
    pub total: usize,
}

/// A storage failure, classified so the caller knows whether to retry.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store is unreachable or busy; retry later.
    #[error("storage unavailable: {0}")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The request itself is wrong; retrying will not help.
    #[error("storage rejected the request: {0}")]
    Rejected(String),
}

/// Where event history lives.
#[async_trait]
pub trait Store: Send + Sync {
    /// The backend's name, for logs.
    fn backend(&self) -> &'static str;
    /// Saves events; an event whose id is already stored is kept once.
    async fn append_events(&self, events: &[DriftEvent]) -> Result<(), StoreError>;
    /// Events matching `query`, newest first.
    async fn events(&self, query: &EventQuery) -> Result<EventPage, StoreError>;
    /// Marks an event acknowledged; false when no event has that id.
    async fn acknowledge(&self, id: &str) -> Result<bool, StoreError>;
}
