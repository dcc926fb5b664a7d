//! Conformance suites: the behaviour every storage backend shares, so swapping
//! backends is a config change and never a surprise. A backend's tests run each suite
//! against a fresh, empty store of that backend (a real server where it has one).
//!
//! Like `assert!`, a suite panics with a message naming the rule the backend broke;
//! these are test code compiled into the library so every backend's tests, in this
//! crate or in `tests/`, can call them.

mod checkpoints;
mod events;
mod incidents;
mod prune;
mod status;

pub use checkpoints::checkpoints;
pub use events::{acknowledge, append_and_query, dedupe_by_id, max_events_cap, snapshots};
pub use incidents::{incidents, resolved, sample_incident};
pub use prune::prune;
pub use status::status;

use driftd_core::event::{DriftEvent, EndReason, EventKind, Severity, Stats};
use driftd_core::store::{Checkpoint, EventQuery, SeriesStatus, Store};
use driftd_core::view::SeriesState;
use driftd_core::SeriesLabels;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

/// A plausible event time (2026-01-12T10:30:45Z); suites add whole seconds to it so
/// backends storing microseconds round-trip every value exactly.
pub const BASE_TIME: u64 = 1_768_213_845_000_000_000;

/// One second in nanoseconds.
pub const SECOND: u64 = 1_000_000_000;

/// A complete event of the series `metric{service.name=service,region=eu}`, with every
/// optional field filled, its deterministic id, and values that round-trip exactly.
pub fn sample_event(metric: &str, service: &str, kind: EventKind, timestamp: u64) -> DriftEvent {
    let series = sample_labels(metric, service);
    let series_id = series.id();
    DriftEvent {
        id: DriftEvent::id_for(series_id, kind, timestamp),
        kind,
        series_id,
        series,
        timestamp,
        onset: timestamp.saturating_sub(5 * SECOND),
        detector: "zscore".to_string(),
        severity: (kind == EventKind::DriftStart).then_some(Severity::Severe),
        reason: (kind == EventKind::DriftEnd).then_some(EndReason::Recovered),
        value: 150.25,
        scores: BTreeMap::from([("z".to_string(), 4.5), ("violations".to_string(), 3.0)]),
        baseline: Stats {
            mean: 100.0,
            stddev: 10.5,
            samples: 100,
        },
        recent: Stats {
            mean: 148.0,
            stddev: 12.25,
            samples: 20,
        },
        acknowledged: false,
        incident: (kind == EventKind::DriftStart).then(|| format!("inc-{:016x}", timestamp)),
        snapshot: None,
    }
}

/// A query for everything, `limit` at a time.
pub(crate) fn everything(limit: usize) -> EventQuery {
    EventQuery {
        limit,
        ..EventQuery::default()
    }
}

/// Runs `query` and returns (total, ids of the page).
pub(crate) async fn ids(store: &dyn Store, query: &EventQuery) -> (usize, Vec<String>) {
    let page = store
        .events(query)
        .await
        .unwrap_or_else(|e| panic!("{}: query {query:?} failed: {e}", store.backend()));
    assert!(
        page.events.len() <= query.limit,
        "{}: a page holds at most `limit` events",
        store.backend()
    );
    (page.total, page.events.into_iter().map(|e| e.id).collect())
}

pub(crate) async fn append(store: &dyn Store, events: &[DriftEvent]) {
    store
        .append_events(events)
        .await
        .unwrap_or_else(|e| panic!("{}: append failed: {e}", store.backend()));
}

/// The labels `metric{service.name=service,region=eu}`.
pub fn sample_labels(metric: &str, service: &str) -> Arc<SeriesLabels> {
    Arc::new(SeriesLabels::new(
        metric,
        vec![
            ("service.name".to_string(), service.to_string()),
            ("region".to_string(), "eu".to_string()),
        ],
    ))
}

/// A status of `metric{service.name=service,region=eu}`; a baseline unless learning.
pub fn sample_status(metric: &str, service: &str, state: SeriesState, updated_at: u64) -> SeriesStatus {
    let series = sample_labels(metric, service);
    SeriesStatus {
        series_id: series.id(),
        series,
        state,
        transition_time: updated_at.saturating_sub(60 * SECOND),
        sample_count: 250,
        baseline: (state != SeriesState::InsufficientData).then_some(Stats {
            mean: 100.5,
            stddev: 15.25,
            samples: 100,
        }),
        updated_at,
    }
}

/// A checkpoint of `metric{service.name=service,region=eu}` holding `state`.
pub fn sample_checkpoint(metric: &str, service: &str, state: &[u8], updated_at: u64) -> Checkpoint {
    let labels = sample_labels(metric, service);
    Checkpoint {
        series_id: labels.id(),
        labels,
        state: state.to_vec(),
        updated_at,
    }
}

/// Every suite every backend passes, each on a fresh, empty store from `fresh`.
pub async fn run_all<F, Fut>(mut fresh: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    append_and_query(fresh().await.as_ref()).await;
    dedupe_by_id(fresh().await.as_ref()).await;
    acknowledge(fresh().await.as_ref()).await;
    snapshots(fresh().await.as_ref()).await;
    status(fresh().await.as_ref()).await;
    checkpoints(fresh().await.as_ref()).await;
    prune(fresh().await.as_ref()).await;
    incidents(fresh().await.as_ref()).await;
}
