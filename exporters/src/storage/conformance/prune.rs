//! Retention: `prune` removes what is older than the cut-off and nothing else.

use super::{append, everything, ids, sample_checkpoint, sample_event, sample_status, BASE_TIME, SECOND};
use driftd_core::event::EventKind;
use driftd_core::store::{StatusQuery, Store};
use driftd_core::view::SeriesState;

/// Events with an event time before the cut-off go (the cut-off itself stays), as do
/// statuses and checkpoints last updated before it; `prune` says how many items went.
pub async fn prune(store: &dyn Store) {
    let b = store.backend();
    let t = |s: u64| BASE_TIME + s * SECOND;
    let cut = t(100);
    let old = sample_event("latency_ms", "checkout", EventKind::DriftStart, t(10));
    let older = sample_event("latency_ms", "search", EventKind::DriftStart, t(1));
    let at_cut = sample_event("latency_ms", "checkout", EventKind::DriftEnd, cut);
    let new = sample_event("payload_kb", "checkout", EventKind::DriftStart, t(200));
    append(store, &[old, at_cut.clone(), new.clone(), older]).await;

    let stale = sample_status("latency_ms", "search", SeriesState::Stable, t(50));
    let fresh = sample_status("latency_ms", "checkout", SeriesState::Stable, cut);
    store
        .upsert_status(&[stale, fresh.clone()])
        .await
        .unwrap_or_else(|e| panic!("{b}: upsert_status failed: {e}"));

    let stale_cp = sample_checkpoint("latency_ms", "search", b"old", t(99));
    let fresh_cp = sample_checkpoint("latency_ms", "checkout", b"new", t(150));
    let other_cp = sample_checkpoint("latency_ms", "checkout", b"other", t(20));
    let save = |processor: &'static str, cps: Vec<_>| async move {
        store
            .save_checkpoints(processor, &cps)
            .await
            .unwrap_or_else(|e| panic!("{b}: save_checkpoints failed: {e}"))
    };
    save("drift", vec![stale_cp, fresh_cp.clone()]).await;
    save("drift/other", vec![other_cp]).await;

    let removed = store
        .prune(cut)
        .await
        .unwrap_or_else(|e| panic!("{b}: prune failed: {e}"));
    assert_eq!(removed, 5, "{b}: prune counts 2 events, 1 status and 2 checkpoints");

    assert_eq!(
        ids(store, &everything(10)).await,
        (2, vec![new.id.clone(), at_cut.id.clone()]),
        "{b}: events before the cut-off are removed, the rest kept"
    );
    let statuses = store
        .statuses(&StatusQuery::default())
        .await
        .unwrap_or_else(|e| panic!("{b}: {e}"));
    assert_eq!(
        statuses,
        [fresh],
        "{b}: statuses not updated since the cut-off are removed"
    );
    let load = |p: &'static str| async move {
        store
            .load_checkpoints(p)
            .await
            .unwrap_or_else(|e| panic!("{b}: load_checkpoints failed: {e}"))
    };
    assert_eq!(load("drift").await, [fresh_cp], "{b}: stale checkpoints are removed");
    assert!(
        load("drift/other").await.is_empty(),
        "{b}: every processor's checkpoints are pruned"
    );

    // Pruning again finds nothing; the store still takes writes.
    assert_eq!(
        store.prune(cut).await.unwrap_or_else(|e| panic!("{b}: {e}")),
        0,
        "{b}: prune is idempotent"
    );
    append(store, std::slice::from_ref(&new)).await;
    assert_eq!(
        ids(store, &everything(10)).await.0,
        2,
        "{b}: a pruned store still dedupes"
    );
}
