//! The series table: a sharded concurrent map from series id to drift state.

use super::checkpoint::{self, Changed};
use super::rules::Profiles;
use super::series::{Outcome, SeriesDrift, Skip};
use dashmap::DashMap;
use driftd_core::store::{Checkpoint, SeriesStatus};
use driftd_core::view::{SeriesSnapshot, SeriesView};
use driftd_core::{LabelSource, Point, SeriesId, SeriesLabels};
use std::collections::HashMap;
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
    /// Fed to the detector.
    Fed(Outcome),
    /// Not fed, and why.
    Skipped(Skip),
    /// A new series past the cardinality cap.
    Overflow,
}

/// Every series one drift processor tracks.
pub struct SeriesTable {
    series: DashMap<SeriesId, Entry, BuildHasherDefault<IdHasher>>,
    profiles: Profiles,
    max_series: usize,
    points: AtomicU64,
}

impl SeriesTable {
    /// An empty table that watches series as `profiles` say, at most `max_series`.
    pub fn new(profiles: Profiles, max_series: usize) -> Self {
        SeriesTable {
            series: DashMap::default(),
            profiles,
            max_series,
            points: AtomicU64::new(0),
        }
    }

    /// Feeds one point. Labels are materialised, and rules matched, only for a series
    /// seen for the first time.
    pub fn update(&self, p: &Point, labels: &dyn LabelSource) -> Update {
        let mut entry = match self.series.get_mut(&p.series) {
            Some(e) => e,
            None => {
                if self.series.len() >= self.max_series {
                    return Update::Overflow;
                }
                self.series.entry(p.series).or_insert_with(|| {
                    let labels = labels.labels(p.origin);
                    let index = self.profiles.index_for(&labels);
                    Entry {
                        drift: SeriesDrift::new(self.profiles.get(index), index),
                        labels: Arc::new(labels),
                    }
                })
            }
        };
        let e = &mut *entry;
        let profile = self.profiles.get(e.drift.profile());
        match e.drift.update(profile, p, p.series, &e.labels) {
            Ok(outcome) => Update::Fed(outcome),
            Err(skip) => Update::Skipped(skip),
        }
    }

    /// Counts processed points (once per batch, not per point).
    pub fn count_points(&self, n: usize) {
        self.points.fetch_add(n as u64, Ordering::Relaxed);
    }
}

impl SeriesTable {
    /// Every series whose sample count differs from `saved`, ready to checkpoint.
    pub fn changed_since(&self, saved: &HashMap<SeriesId, u64>, now: u64) -> Vec<Changed> {
        let mut out = Vec::new();
        for e in self.series.iter() {
            let id = *e.key();
            if saved.get(&id) == Some(&e.drift.sample_count()) {
                continue;
            }
            let snapshot = e.drift.snapshot(self.profiles.get(e.drift.profile()), id, &e.labels);
            out.push(Changed {
                checkpoint: Checkpoint {
                    series_id: id,
                    labels: e.labels.clone(),
                    state: checkpoint::encode(&e.drift),
                    updated_at: now,
                },
                status: SeriesStatus::from_snapshot(&snapshot, now),
                samples: snapshot.sample_count,
            });
        }
        out
    }

    /// Restores saved series; returns how many were restored. A checkpoint that does not
    /// decode, or whose detector is not the one the rules now give its series, is
    /// skipped: that series learns again.
    pub fn restore(&self, checkpoints: Vec<Checkpoint>) -> usize {
        let mut restored = 0;
        for c in checkpoints {
            if self.series.len() >= self.max_series {
                break;
            }
            let index = self.profiles.index_for(&c.labels);
            let Some(drift) = checkpoint::decode(&c.state) else {
                continue;
            };
            let Some(drift) = drift.rewatched(self.profiles.get(index), index) else {
                continue;
            };
            self.series.insert(
                c.series_id,
                Entry {
                    drift,
                    labels: c.labels,
                },
            );
            restored += 1;
        }
        restored
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
        self.series
            .get(&id)
            .map(|e| e.drift.snapshot(self.profiles.get(e.drift.profile()), id, &e.labels))
    }

    fn for_each(&self, visit: &mut dyn FnMut(SeriesSnapshot)) {
        for e in self.series.iter() {
            visit(
                e.drift
                    .snapshot(self.profiles.get(e.drift.profile()), *e.key(), &e.labels),
            );
        }
    }
}
