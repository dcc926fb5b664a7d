//! Current status per series: upsert, newer-wins, query and paging.

use super::{sample_status, BASE_TIME, SECOND};
use driftd_core::store::{SeriesStatus, StatusQuery, Store};
use driftd_core::view::SeriesState;
use driftd_core::SeriesId;

async fn query(store: &dyn Store, q: &StatusQuery) -> Vec<SeriesStatus> {
    store
        .statuses(q)
        .await
        .unwrap_or_else(|e| panic!("{}: statuses {q:?} failed: {e}", store.backend()))
}

async fn upsert(store: &dyn Store, statuses: &[SeriesStatus]) {
    store
        .upsert_status(statuses)
        .await
        .unwrap_or_else(|e| panic!("{}: upsert_status failed: {e}", store.backend()));
}

fn sorted(mut v: Vec<SeriesStatus>) -> Vec<SeriesStatus> {
    v.sort_by_key(|s| s.series_id);
    v
}

/// Statuses round-trip exactly (with and without a baseline), come back ordered by
/// series id, filter and page, and a write never replaces a newer status.
pub async fn status(store: &dyn Store) {
    let b = store.backend();
    assert!(
        query(store, &StatusQuery::default()).await.is_empty(),
        "{b}: starts empty"
    );

    let t = |s: u64| BASE_TIME + s * SECOND;
    let learning = sample_status("latency_ms", "checkout", SeriesState::InsufficientData, t(10));
    let stable = sample_status("payload_kb", "checkout", SeriesState::Stable, t(10));
    let drifting = sample_status("latency_ms", "search", SeriesState::DriftDetected, t(10));
    let all = sorted(vec![learning.clone(), stable.clone(), drifting.clone()]);
    upsert(store, &[learning.clone(), stable.clone()]).await;
    upsert(store, std::slice::from_ref(&drifting)).await;
    assert_eq!(
        query(store, &StatusQuery::default()).await,
        all,
        "{b}: statuses come back exactly as written, ordered by series id"
    );

    let cases = [
        (
            "series",
            StatusQuery {
                series: Some(stable.series_id),
                ..StatusQuery::default()
            },
            vec![stable.clone()],
        ),
        (
            "metric",
            StatusQuery {
                metric: Some("latency_ms".into()),
                ..StatusQuery::default()
            },
            sorted(vec![learning.clone(), drifting.clone()]),
        ),
        (
            "service",
            StatusQuery {
                service: Some("checkout".into()),
                ..StatusQuery::default()
            },
            sorted(vec![learning.clone(), stable.clone()]),
        ),
        (
            "state",
            StatusQuery {
                state: Some(SeriesState::DriftDetected),
                ..StatusQuery::default()
            },
            vec![drifting.clone()],
        ),
        (
            "unknown series",
            StatusQuery {
                series: Some(SeriesId(7)),
                ..StatusQuery::default()
            },
            Vec::new(),
        ),
        (
            "first page",
            StatusQuery {
                limit: Some(2),
                ..StatusQuery::default()
            },
            all[..2].to_vec(),
        ),
        (
            "second page",
            StatusQuery {
                limit: Some(2),
                offset: 2,
                ..StatusQuery::default()
            },
            all[2..].to_vec(),
        ),
        (
            "offset past the end",
            StatusQuery {
                offset: 5,
                ..StatusQuery::default()
            },
            Vec::new(),
        ),
        (
            "limit 0",
            StatusQuery {
                limit: Some(0),
                ..StatusQuery::default()
            },
            Vec::new(),
        ),
    ];
    for (name, q, want) in cases {
        assert_eq!(query(store, &q).await, want, "{b}: statuses by {name}");
    }

    // The series drifts: a newer status replaces the stored one.
    let mut newer = learning.clone();
    newer.state = SeriesState::DriftDetected;
    newer.transition_time = t(20);
    newer.sample_count = 400;
    newer.baseline = stable.baseline;
    newer.updated_at = t(20);
    // A retried, older write arrives after it and must not undo it.
    let mut older = learning.clone();
    older.sample_count = 1;
    older.updated_at = t(5);
    upsert(store, std::slice::from_ref(&newer)).await;
    upsert(store, &[older]).await;
    let one = StatusQuery {
        series: Some(learning.series_id),
        ..StatusQuery::default()
    };
    assert_eq!(
        query(store, &one).await,
        [newer.clone()],
        "{b}: a newer status replaces the stored one; an older one is ignored"
    );

    let mut same_time = newer.clone();
    same_time.sample_count = 401;
    upsert(store, std::slice::from_ref(&same_time)).await;
    assert_eq!(
        query(store, &one).await,
        [same_time],
        "{b}: a status with the same updated_at replaces the stored one"
    );
    assert_eq!(
        query(store, &StatusQuery::default()).await.len(),
        3,
        "{b}: one status per series"
    );
}
