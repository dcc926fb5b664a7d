//! Retention, written once for every backend: a task that prunes the store
//! periodically for as long as the store exists.

use driftd_core::store::Store;
use driftd_core::time::now_unix_nano;
use std::sync::{Arc, Weak};
use std::time::Duration;

/// How often to prune for a given retention: a 24th of it, between a minute and an hour,
/// so data outlives `retention` by at most a few percent (or an hour).
pub fn prune_interval(retention: Duration) -> Duration {
    (retention / 24).clamp(Duration::from_secs(60), Duration::from_secs(3600))
}

/// Prunes `store` now and then every [`prune_interval`], removing what is older than
/// `retention`. The task holds only a weak reference: it ends when the store is dropped
/// (or with the runtime at shutdown). A failed prune is logged and tried again at the
/// next tick; a store that is down never stops driftd.
pub fn spawn_pruning(store: &Arc<dyn Store>, retention: Duration) {
    let weak: Weak<dyn Store> = Arc::downgrade(store);
    let every = prune_interval(retention);
    let backend = store.backend();
    let pruned = metrics::counter!("driftd_storage_pruned_items_total", "backend" => backend);
    let failures = metrics::counter!("driftd_storage_prune_failures_total", "backend" => backend);
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let Some(store) = weak.upgrade() else { break };
            let cutoff = now_unix_nano().saturating_sub(u64::try_from(retention.as_nanos()).unwrap_or(u64::MAX));
            match store.prune(cutoff).await {
                Ok(n) => {
                    pruned.increment(n);
                    if n > 0 {
                        tracing::info!(backend, items = n, "pruned data older than the retention");
                    }
                }
                Err(e) => {
                    failures.increment(1);
                    tracing::warn!(backend, error = %e, "pruning failed; will try again");
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::conformance::{sample_event, BASE_TIME};
    use crate::storage::memory::MemoryStore;
    use driftd_core::store::EventQuery;
    use driftd_core::EventKind;
    use std::num::NonZeroUsize;

    #[test]
    fn interval_is_a_fraction_of_the_retention_within_bounds() {
        assert_eq!(
            prune_interval(Duration::from_secs(7 * 24 * 3600)),
            Duration::from_secs(3600)
        );
        assert_eq!(
            prune_interval(Duration::from_secs(12 * 3600)),
            Duration::from_secs(1800)
        );
        assert_eq!(prune_interval(Duration::from_secs(10)), Duration::from_secs(60));
    }

    #[tokio::test]
    async fn prunes_at_start_and_stops_with_the_store() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new(NonZeroUsize::new(10).expect("non-zero")));
        // An event from 2026-01-12 is older than a one-hour retention at any later date.
        let old = sample_event("m", "api", EventKind::DriftStart, BASE_TIME);
        store.append_events(&[old]).await.expect("appends");
        spawn_pruning(&store, Duration::from_secs(3600));
        let all = EventQuery {
            limit: 10,
            ..EventQuery::default()
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while store.events(&all).await.expect("queries").total > 0 {
            assert!(tokio::time::Instant::now() < deadline, "the first prune runs at start");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let weak = Arc::downgrade(&store);
        drop(store);
        assert!(weak.upgrade().is_none(), "the task keeps no strong reference");
    }
}
