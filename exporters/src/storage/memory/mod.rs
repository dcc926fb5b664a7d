//! `memory`: event history in process memory, bounded, lost at restart. The default
//! backend, and the reference the conformance suites are written against.

mod config;

pub use config::MemoryConfig;

use async_trait::async_trait;
use driftd_core::store::{EventPage, EventQuery, Store, StoreError};
use driftd_core::DriftEvent;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::num::NonZeroUsize;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Where an event sits: its event time, then its arrival number, so that walking the
/// map backwards gives "newest first, later arrival first on ties" without sorting.
type Key = (u64, u64);

/// A bounded in-memory event store.
pub struct MemoryStore {
    max_events: usize,
    events: RwLock<Events>,
}

#[derive(Default)]
struct Events {
    by_time: BTreeMap<Key, DriftEvent>,
    /// Keys in arrival order, to drop the oldest arrivals past the cap.
    arrivals: VecDeque<Key>,
    by_id: HashMap<String, Key>,
    next_arrival: u64,
}

impl MemoryStore {
    /// An empty store keeping at most `max_events`.
    pub fn new(max_events: NonZeroUsize) -> Self {
        MemoryStore {
            max_events: max_events.get(),
            events: RwLock::new(Events::default()),
        }
    }

    // A panic while holding the lock cannot leave the maps half-updated in a way that
    // matters more than losing the history, so a poisoned lock is used as it is.
    fn read(&self) -> RwLockReadGuard<'_, Events> {
        self.events.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Events> {
        self.events.write().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl Store for MemoryStore {
    fn backend(&self) -> &'static str {
        "memory"
    }

    async fn append_events(&self, events: &[DriftEvent]) -> Result<(), StoreError> {
        let mut stored = self.write();
        for event in events {
            if stored.by_id.contains_key(&event.id) {
                continue;
            }
            let key = (event.timestamp, stored.next_arrival);
            stored.next_arrival += 1;
            stored.by_id.insert(event.id.clone(), key);
            stored.arrivals.push_back(key);
            stored.by_time.insert(key, event.clone());
        }
        while stored.arrivals.len() > self.max_events {
            let Some(oldest) = stored.arrivals.pop_front() else {
                break;
            };
            if let Some(dropped) = stored.by_time.remove(&oldest) {
                stored.by_id.remove(&dropped.id);
            }
        }
        Ok(())
    }

    async fn events(&self, query: &EventQuery) -> Result<EventPage, StoreError> {
        let stored = self.read();
        let page_end = query.offset.saturating_add(query.limit);
        let mut page = EventPage::default();
        for event in stored.by_time.values().rev().filter(|e| query.matches(e)) {
            if (query.offset..page_end).contains(&page.total) {
                page.events.push(event.clone());
            }
            page.total += 1;
        }
        Ok(page)
    }

    async fn acknowledge(&self, id: &str) -> Result<bool, StoreError> {
        let mut stored = self.write();
        let Some(key) = stored.by_id.get(id).copied() else {
            return Ok(false);
        };
        match stored.by_time.get_mut(&key) {
            Some(event) => {
                event.acknowledged = true;
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::conformance;

    fn store(max_events: usize) -> MemoryStore {
        MemoryStore::new(NonZeroUsize::new(max_events).expect("non-zero"))
    }

    #[tokio::test]
    async fn passes_append_and_query() {
        conformance::append_and_query(&store(1_000)).await;
    }

    #[tokio::test]
    async fn passes_dedupe_by_id() {
        conformance::dedupe_by_id(&store(1_000)).await;
    }

    #[tokio::test]
    async fn passes_acknowledge() {
        conformance::acknowledge(&store(1_000)).await;
    }

    #[tokio::test]
    async fn passes_retention() {
        conformance::retention(&store(25), 25).await;
    }

    #[tokio::test]
    async fn passes_every_suite() {
        conformance::run_all(|| async { std::sync::Arc::new(store(25)) as _ }, 25).await;
    }
}
