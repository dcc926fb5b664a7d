//! The series table: a sharded concurrent map from series id to drift state.

use super::series::{SeriesDrift, Settings, Skip};
use super::zscore::Transition;
use dashmap::DashMap;
use driftd_core::view::{SeriesSnapshot, SeriesView};
use driftd_core::{LabelSource, Point, SeriesId, SeriesLabels};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Series ids are already uniform 64-bit hashes; hashing them again is wasted work.
#[derive(Default)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

struct Entry {
    drift: SeriesDrift,
    labels: Arc<SeriesLabels>,
}

/// What happened to one point.
pub enum Update {
    /// Fed to the detector (maybe with a transition).
    Fed(Option<Transition>),
    /// Not fed, and why.
    Skipped(Skip),
    /// A new series past the cardinality cap.
    Overflow,
}

/// Every series one drift processor tracks.
pub struct SeriesTable {
    series: DashMap<SeriesId, Entry, BuildHasherDefault<IdHasher>>,
    max_series: usize,
    points: AtomicU64,
}

impl SeriesTable {
    /// An empty table that tracks at most `max_series`.
    pub fn new(max_series: usize) -> Self {
        SeriesTable {
            series: DashMap::default(),
            max_series,
            points: AtomicU64::new(0),
        }
    }

    /// Feeds one point. Labels are materialised only for a series seen for the first
    /// time; `on_event` runs under the series' lock with the state that fired.
    pub fn update(
        &self,
        p: &Point,
        labels: &dyn LabelSource,
        s: &Settings,
        on_event: &mut dyn FnMut(&SeriesDrift, &Arc<SeriesLabels>, Transition),
    ) -> Update {
        let mut entry = match self.series.get_mut(&p.series) {
            Some(e) => e,
            None => {
                if self.series.len() >= self.max_series {
                    return Update::Overflow;
                }
                self.series.entry(p.series).or_insert_with(|| Entry {
                    drift: SeriesDrift::default(),
                    labels: Arc::new(labels.labels(p.origin)),
                })
            }
        };
        let e = &mut *entry;
        match e.drift.update(s, p) {
            Ok(Some(t)) => {
                on_event(&e.drift, &e.labels, t);
                Update::Fed(Some(t))
            }
            Ok(None) => Update::Fed(None),
            Err(skip) => Update::Skipped(skip),
        }
    }

    /// Counts processed points (once per batch, not per point).
    pub fn count_points(&self, n: usize) {
        self.points.fetch_add(n as u64, Ordering::Relaxed);
    }
}

impl SeriesView for SeriesTable {
    fn series_count(&self) -> usize {
        self.series.len()
    }

    fn points_processed(&self) -> u64 {
        self.points.load(Ordering::Relaxed)
    }

    fn get(&self, id: SeriesId) -> Option<SeriesSnapshot> {
        self.series.get(&id).map(|e| e.drift.snapshot(id, &e.labels))
    }

    fn for_each(&self, visit: &mut dyn FnMut(SeriesSnapshot)) {
        for e in self.series.iter() {
            visit(e.drift.snapshot(*e.key(), &e.labels));
        }
    }
}
