//! `memory`: events, statuses and checkpoints in process memory, bounded, lost at
//! restart. The default backend, and the reference the conformance suites are written
//! against.

mod config;

pub use config::MemoryConfig;

use async_trait::async_trait;
use driftd_core::history::History;
use driftd_core::incident::{Incident, IncidentQuery};
use driftd_core::store::{self, Checkpoint, EventPage, EventQuery, SeriesStatus, StatusQuery, Store, StoreError};
use driftd_core::{DriftEvent, SeriesId};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::num::NonZeroUsize;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Where an event sits: its event time, then its arrival number, so that walking the
/// map backwards gives "newest first, later arrival first on ties" without sorting.
type Key = (u64, u64);

/// Snapshots kept: those of the newest arrivals. A snapshot is about 9 KB at the
/// default history settings, so 100,000 of them would dwarf the events themselves.
const SNAPSHOTS_KEPT: usize = 1_000;

/// Snapshots by event id, and their ids in arrival order.
type Snapshots = (HashMap<String, Arc<History>>, VecDeque<String>);

/// A bounded in-memory store.
pub struct MemoryStore {
    max_events: usize,
    events: RwLock<Events>,
    /// Each event's snapshot by id, for the newest [`SNAPSHOTS_KEPT`] that had one.
    snapshots: RwLock<Snapshots>,
    statuses: RwLock<BTreeMap<SeriesId, SeriesStatus>>,
    checkpoints: RwLock<HashMap<String, BTreeMap<SeriesId, Checkpoint>>>,
    /// Incidents by id, with whether they were acknowledged.
    incidents: RwLock<HashMap<String, (Incident, bool)>>,
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
            snapshots: RwLock::default(),
            statuses: RwLock::default(),
            checkpoints: RwLock::default(),
            incidents: RwLock::default(),
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, Events> {
        read(&self.events)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Events> {
        write(&self.events)
    }
}

// A panic while holding a lock cannot leave the maps half-updated in a way that
// matters more than losing the data, so a poisoned lock is used as it is.
fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|e| e.into_inner())
}

/// Inserts `value` under `key` unless the stored one was updated later.
fn upsert_newer<T: Clone>(map: &mut BTreeMap<SeriesId, T>, key: SeriesId, value: &T, updated_at: impl Fn(&T) -> u64) {
    match map.get(&key) {
        Some(stored) if updated_at(stored) > updated_at(value) => {}
        _ => {
            map.insert(key, value.clone());
        }
    }
}

#[async_trait]
impl Store for MemoryStore {
    fn backend(&self) -> &'static str {
        "memory"
    }

    fn persistent(&self) -> bool {
        false
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
            stored.by_time.insert(key, event.without_snapshot());
            if let Some(snapshot) = &event.snapshot {
                let (by_id, order) = &mut *write(&self.snapshots);
                by_id.insert(event.id.clone(), snapshot.clone());
                order.push_back(event.id.clone());
                while order.len() > SNAPSHOTS_KEPT {
                    order.pop_front().and_then(|old| by_id.remove(&old));
                }
            }
        }
        while stored.arrivals.len() > self.max_events {
            let Some(oldest) = stored.arrivals.pop_front() else {
                break;
            };
            if let Some(dropped) = stored.by_time.remove(&oldest) {
                stored.by_id.remove(&dropped.id);
                write(&self.snapshots).0.remove(&dropped.id);
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

    async fn event(&self, id: &str) -> Result<Option<DriftEvent>, StoreError> {
        let stored = self.read();
        let Some(mut event) = stored.by_id.get(id).and_then(|key| stored.by_time.get(key)).cloned() else {
            return Ok(None);
        };
        event.snapshot = read(&self.snapshots).0.get(id).cloned();
        Ok(Some(event))
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

    async fn upsert_status(&self, statuses: &[SeriesStatus]) -> Result<(), StoreError> {
        let mut stored = write(&self.statuses);
        for s in statuses {
            upsert_newer(&mut stored, s.series_id, s, |s| s.updated_at);
        }
        Ok(())
    }

    async fn statuses(&self, query: &StatusQuery) -> Result<Vec<SeriesStatus>, StoreError> {
        let stored = read(&self.statuses);
        let matching = stored.values().filter(|s| query.matches(s)).skip(query.offset);
        Ok(matching.take(query.limit.unwrap_or(usize::MAX)).cloned().collect())
    }

    async fn save_checkpoints(&self, processor: &str, checkpoints: &[Checkpoint]) -> Result<(), StoreError> {
        let mut stored = write(&self.checkpoints);
        let table = stored.entry(processor.to_string()).or_default();
        for c in checkpoints {
            upsert_newer(table, c.series_id, c, |c| c.updated_at);
        }
        Ok(())
    }

    async fn load_checkpoints(&self, processor: &str) -> Result<Vec<Checkpoint>, StoreError> {
        let stored = read(&self.checkpoints);
        Ok(stored
            .get(processor)
            .map(|t| t.values().cloned().collect())
            .unwrap_or_default())
    }

    async fn save_incidents(&self, incidents: &[Incident]) -> Result<(), StoreError> {
        let mut stored = write(&self.incidents);
        for incident in incidents {
            match stored.get_mut(&incident.id) {
                Some((old, _)) if old.updated_at > incident.updated_at => {}
                Some((old, _)) => *old = incident.clone(),
                None => {
                    stored.insert(incident.id.clone(), (incident.clone(), false));
                }
            }
        }
        Ok(())
    }

    async fn incidents(&self, query: &IncidentQuery) -> Result<Vec<Incident>, StoreError> {
        let stored = read(&self.incidents);
        let shown = stored
            .values()
            .map(|(i, acked)| store::with_acknowledgement(i.clone(), *acked));
        Ok(store::newest_incidents(
            shown.filter(|i| query.matches(i)).collect(),
            query.limit,
        ))
    }

    async fn incident(&self, id: &str) -> Result<Option<Incident>, StoreError> {
        let stored = read(&self.incidents);
        Ok(stored
            .get(id)
            .map(|(i, acked)| store::with_acknowledgement(i.clone(), *acked)))
    }

    async fn acknowledge_incident(&self, id: &str) -> Result<bool, StoreError> {
        let mut stored = write(&self.incidents);
        Ok(stored.get_mut(id).map(|(_, acked)| *acked = true).is_some())
    }

    async fn prune(&self, older_than: u64) -> Result<u64, StoreError> {
        let mut removed = 0;
        {
            let mut stored = self.write();
            let kept = stored.by_time.split_off(&(older_than, 0));
            let gone = std::mem::replace(&mut stored.by_time, kept);
            let mut snapshots = write(&self.snapshots);
            for event in gone.values() {
                stored.by_id.remove(&event.id);
                snapshots.0.remove(&event.id);
            }
            stored.arrivals.retain(|k| k.0 >= older_than);
            removed += gone.len() as u64;
        }
        let mut statuses = write(&self.statuses);
        let before = statuses.len();
        statuses.retain(|_, s| s.updated_at >= older_than);
        removed += (before - statuses.len()) as u64;
        for table in write(&self.checkpoints).values_mut() {
            let before = table.len();
            table.retain(|_, c| c.updated_at >= older_than);
            removed += (before - table.len()) as u64;
        }
        let mut incidents = write(&self.incidents);
        let before = incidents.len();
        incidents.retain(|_, (i, _)| i.updated_at >= older_than);
        removed += (before - incidents.len()) as u64;
        Ok(removed)
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
    async fn passes_every_suite() {
        conformance::run_all(|| async { std::sync::Arc::new(store(1_000)) as _ }).await;
    }

    #[tokio::test]
    async fn keeps_at_most_max_events() {
        conformance::max_events_cap(&store(25), 25).await;
    }

    #[tokio::test]
    async fn keeps_the_snapshots_of_the_newest_events_only() {
        let s = store(5_000);
        let events: Vec<DriftEvent> = (0..SNAPSHOTS_KEPT as u64 + 10)
            .map(|i| DriftEvent {
                snapshot: Some(Arc::new(History::default())),
                ..conformance::sample_event("m", "svc", driftd_core::EventKind::DriftStart, i)
            })
            .collect();
        s.append_events(&events).await.unwrap();
        let mut kept = Vec::new();
        for i in [9, 10, SNAPSHOTS_KEPT + 9] {
            kept.push(s.event(&events[i].id).await.unwrap().unwrap().snapshot.is_some());
        }
        assert_eq!(kept, [false, true, true], "the oldest snapshots went");
        assert_eq!(read(&s.snapshots).0.len(), SNAPSHOTS_KEPT);
    }
}
