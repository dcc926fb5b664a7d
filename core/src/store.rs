//! The storage trait: event history behind the query API, the current status of every
//! series, and detector checkpoints that let a restart skip relearning. One
//! implementation per backend lives in the exporters crate; every backend passes the
//! same conformance suites.

use crate::event::{DriftEvent, EventKind, Stats};
use crate::incident::{Incident, IncidentQuery, IncidentState};
use crate::model::{SeriesId, SeriesLabels};
use crate::view::{SeriesSnapshot, SeriesState};
use async_trait::async_trait;
use std::sync::Arc;

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
    /// Only events of this incident.
    pub incident: Option<String>,
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
            && self
                .incident
                .as_deref()
                .is_none_or(|i| e.incident.as_deref() == Some(i))
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

/// The last known status of one series, as the query API shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesStatus {
    /// Identity.
    pub series_id: SeriesId,
    /// Metric name and labels.
    pub series: Arc<SeriesLabels>,
    /// Lifecycle state.
    pub state: SeriesState,
    /// Event time of the last state change (ns).
    pub transition_time: u64,
    /// Samples seen.
    pub sample_count: u64,
    /// The learned baseline, once there is one.
    pub baseline: Option<Stats>,
    /// When this status was written (ns); a write never replaces a newer one.
    pub updated_at: u64,
}

impl SeriesStatus {
    /// The status of a series table entry, stamped `updated_at`.
    pub fn from_snapshot(s: &SeriesSnapshot, updated_at: u64) -> Self {
        SeriesStatus {
            series_id: s.id,
            series: s.labels.clone(),
            state: s.state,
            transition_time: s.transition_time,
            sample_count: s.sample_count,
            baseline: s.baseline,
            updated_at,
        }
    }
}

/// Which statuses to return, ordered by series id.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StatusQuery {
    /// Only this series.
    pub series: Option<SeriesId>,
    /// Only series of this metric name.
    pub metric: Option<String>,
    /// Only series of this service.
    pub service: Option<String>,
    /// Only series in this state.
    pub state: Option<SeriesState>,
    /// Page size; `None` for all.
    pub limit: Option<usize>,
    /// Statuses to skip.
    pub offset: usize,
}

impl StatusQuery {
    /// Whether a status passes the filters (not the paging).
    pub fn matches(&self, s: &SeriesStatus) -> bool {
        self.series.is_none_or(|id| id == s.series_id)
            && self.metric.as_deref().is_none_or(|m| m == s.series.metric)
            && self.service.as_deref().is_none_or(|v| Some(v) == s.series.service())
            && self.state.is_none_or(|st| st == s.state)
    }
}

/// One series' detector state, saved so a restart resumes instead of relearning.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    /// Identity.
    pub series_id: SeriesId,
    /// Metric name and labels, so the series table can be rebuilt without new points.
    pub labels: Arc<SeriesLabels>,
    /// The processor's encoding of the detector state; stores never look inside.
    pub state: Vec<u8>,
    /// When it was taken (ns); a save never replaces a newer checkpoint.
    pub updated_at: u64,
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

impl StoreError {
    /// Whether retrying later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

/// Where event history, series status and detector checkpoints live.
///
/// Every method behaves the same on every backend (the conformance suites in the
/// exporters crate say exactly how), so swapping backends is a config change.
#[async_trait]
pub trait Store: Send + Sync {
    /// The backend's name, for logs.
    fn backend(&self) -> &'static str;

    /// Whether what is stored outlives the process (checkpoints are only worth writing
    /// to a store that does).
    fn persistent(&self) -> bool {
        true
    }

    /// Saves events; an event whose id is already stored is kept once (the first copy).
    async fn append_events(&self, events: &[DriftEvent]) -> Result<(), StoreError>;
    /// Events matching `query`, newest first (ties: later arrival first).
    async fn events(&self, query: &EventQuery) -> Result<EventPage, StoreError>;
    /// One event by id, with its snapshot (lists leave snapshots out).
    async fn event(&self, id: &str) -> Result<Option<DriftEvent>, StoreError> {
        let _ = id;
        Err(unsupported(self.backend(), "events by id"))
    }
    /// Marks an event acknowledged; false when no event has that id.
    async fn acknowledge(&self, id: &str) -> Result<bool, StoreError>;

    /// Saves each series' status, replacing the stored one unless that one is newer
    /// (greater `updated_at`).
    async fn upsert_status(&self, statuses: &[SeriesStatus]) -> Result<(), StoreError> {
        let _ = statuses;
        Err(unsupported(self.backend(), "series status"))
    }
    /// Statuses matching `query`, ordered by series id.
    async fn statuses(&self, query: &StatusQuery) -> Result<Vec<SeriesStatus>, StoreError> {
        let _ = query;
        Err(unsupported(self.backend(), "series status"))
    }

    /// Saves checkpoints of `processor`'s series, keyed by (processor, series id),
    /// replacing stored ones unless those are newer (greater `updated_at`).
    async fn save_checkpoints(&self, processor: &str, checkpoints: &[Checkpoint]) -> Result<(), StoreError> {
        let _ = (processor, checkpoints);
        Err(unsupported(self.backend(), "checkpoints"))
    }
    /// Every checkpoint of `processor`, exactly as saved, ordered by series id.
    async fn load_checkpoints(&self, processor: &str) -> Result<Vec<Checkpoint>, StoreError> {
        let _ = processor;
        Err(unsupported(self.backend(), "checkpoints"))
    }

    /// Saves incidents, replacing the stored one of the same id unless that one is newer
    /// (greater `updated_at`). An acknowledgement is kept: the processor never sends it.
    async fn save_incidents(&self, incidents: &[Incident]) -> Result<(), StoreError> {
        let _ = incidents;
        Err(unsupported(self.backend(), "incidents"))
    }
    /// Incidents matching `query`, the latest opened first.
    async fn incidents(&self, query: &IncidentQuery) -> Result<Vec<Incident>, StoreError> {
        let _ = query;
        Err(unsupported(self.backend(), "incidents"))
    }
    /// One incident by id.
    async fn incident(&self, id: &str) -> Result<Option<Incident>, StoreError> {
        let _ = id;
        Err(unsupported(self.backend(), "incidents"))
    }
    /// Marks an incident acknowledged (shown as `acknowledged` while it is open); false
    /// when no incident has that id.
    async fn acknowledge_incident(&self, id: &str) -> Result<bool, StoreError> {
        let _ = id;
        Err(unsupported(self.backend(), "incidents"))
    }

    /// Removes events whose event time is before `older_than` (ns since the epoch), and
    /// statuses, checkpoints and incidents not updated since then. Returns how many items went
    /// (0 where the backend expires data by itself).
    async fn prune(&self, older_than: u64) -> Result<u64, StoreError> {
        let _ = older_than;
        Ok(0)
    }
}

/// An incident as stored (its state as the processor last sent it) shown with the
/// acknowledgement the store keeps beside it.
pub fn with_acknowledgement(mut incident: Incident, acknowledged: bool) -> Incident {
    if acknowledged && incident.state == IncidentState::Open {
        incident.state = IncidentState::Acknowledged;
    }
    incident
}

/// Sorts incidents the latest opened first (ties: by id) and keeps the first `limit`.
pub fn newest_incidents(mut incidents: Vec<Incident>, limit: usize) -> Vec<Incident> {
    incidents.sort_by(|a, b| b.opened_at.cmp(&a.opened_at).then_with(|| a.id.cmp(&b.id)));
    incidents.truncate(limit);
    incidents
}

// Defaults so test doubles that only serve events stay small; every real backend
// implements all of it (the conformance suites check).
fn unsupported(backend: &str, what: &str) -> StoreError {
    StoreError::Rejected(format!("the {backend} store keeps no {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_filters_match_on_every_field_given() {
        let labels = Arc::new(SeriesLabels::new(
            "latency_ms",
            vec![("service.name".to_string(), "checkout".to_string())],
        ));
        let status = SeriesStatus {
            series_id: labels.id(),
            series: labels,
            state: SeriesState::Stable,
            transition_time: 1,
            sample_count: 2,
            baseline: None,
            updated_at: 3,
        };
        let q = |f: fn(&mut StatusQuery)| {
            let mut q = StatusQuery::default();
            f(&mut q);
            q.matches(&status)
        };
        assert!(q(|_| {}));
        assert!(q(|q| q.service = Some("checkout".into())));
        assert!(!q(|q| q.service = Some("search".into())));
        assert!(!q(|q| q.metric = Some("payload_kb".into())));
        assert!(!q(|q| q.state = Some(SeriesState::DriftDetected)));
        assert!(!q(|q| q.series = Some(SeriesId(1))));
    }

    #[test]
    fn only_unavailable_is_transient() {
        assert!(StoreError::Unavailable("down".into()).is_transient());
        assert!(!StoreError::Rejected("bad".into()).is_transient());
    }
}
