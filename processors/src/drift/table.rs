//! The series table: a sharded concurrent map from series id to drift state.
//!
//! Each entry remembers when its series last had a point, in whole seconds on the
//! table's own monotonic clock (read once per batch, not per point), so idle series can
//! be expired (`series_ttl`) without a clock read or any extra lock on the hot path.

use super::checkpoint::{self, Changed};
use super::rules::Profiles;
use super::series::{Outcome, SeriesDrift, Skip};
use dashmap::DashMap;
use driftd_core::store::{Checkpoint, SeriesStatus};
use driftd_core::view::{SeriesSnapshot, SeriesState, SeriesView};
use driftd_core::{LabelSource, Point, SeriesId, SeriesLabels};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
    /// When the series last had a point, in seconds on the table's clock (arrival, not
    /// event time), for expiry. Not checkpointed.
    last_seen: u32,
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
///
/// Entries are boxed: a hash map keeps between 1/8 and 9/16 of its slots empty (it
/// doubles when 7/8 full), and an empty slot costs what an entry does. Boxed, a slot is
/// 16 bytes and an entry's 264 are allocated only for series that exist, at the price
/// of one pointer hop per point.
pub struct SeriesTable {
    series: DashMap<SeriesId, Box<Entry>, BuildHasherDefault<IdHasher>>,
    profiles: Profiles,
    budget: Arc<SeriesBudget>,
    points: AtomicU64,
    /// Zero of the table's clock (see [`SeriesTable::clock`]).
    epoch: Instant,
    /// Series expired since the table was made.
    expired: AtomicU64,
}

/// The cap on the series one processor tracks (`max_series`), shared by its scalar
/// and histogram tables: a place is taken when a series is added, given back when it
/// expires.
pub struct SeriesBudget {
    max: usize,
    used: AtomicUsize,
}

impl SeriesBudget {
    /// Room for `max` series.
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(SeriesBudget {
            max,
            used: AtomicUsize::new(0),
        })
    }

    /// Takes a place for a new series; `false` when the cap is reached.
    pub fn take(&self) -> bool {
        self.used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < self.max).then_some(n + 1)
            })
            .is_ok()
    }

    /// Gives back the places of `n` series that went.
    pub fn give_back(&self, n: usize) {
        self.used.fetch_sub(n, Ordering::Relaxed);
    }
}

/// Removes from `series` every entry idle for more than `ttl` seconds at `now`
/// (`seen` tells when an entry last had a point and whether it is drifting), and
/// shrinks the map when a large share went. Locks one shard at a time.
pub fn expire_idle<V>(
    series: &DashMap<SeriesId, V, BuildHasherDefault<IdHasher>>,
    now: u32,
    ttl: u32,
    seen: impl Fn(&V) -> (u32, bool),
) -> Expired {
    let before = series.len();
    let mut gone = Expired::default();
    series.retain(|_, e| {
        let (last_seen, drifting) = seen(e);
        let keep = now.saturating_sub(last_seen) <= ttl;
        if !keep {
            gone.series += 1;
            gone.drifting += usize::from(drifting);
        }
        keep
    });
    // Shrinking rehashes every shard: worth it only once a quarter of the series went.
    if gone.series > 0 && gone.series >= before / 4 {
        series.shrink_to_fit();
    }
    gone
}

/// A TTL in whole seconds of the table's clock.
pub fn ttl_secs(ttl: Duration) -> u32 {
    u32::try_from(ttl.as_secs()).unwrap_or(u32::MAX)
}

/// What one expiry pass removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Expired {
    /// Series removed.
    pub series: usize,
    /// Of those, series that were drifting when they went idle.
    pub drifting: usize,
}

impl SeriesTable {
    /// An empty table that watches series as `profiles` say, at most `max_series`.
    pub fn new(profiles: Profiles, max_series: usize) -> Self {
        Self::with_budget(profiles, SeriesBudget::new(max_series))
    }

    /// An empty table whose new series take their places from `budget`.
    pub fn with_budget(profiles: Profiles, budget: Arc<SeriesBudget>) -> Self {
        SeriesTable {
            series: DashMap::default(),
            profiles,
            budget,
            points: AtomicU64::new(0),
            epoch: Instant::now(),
            expired: AtomicU64::new(0),
        }
    }

    /// Now, in whole seconds since the table was made: the clock series are stamped
    /// with. Read once per batch.
    pub fn clock(&self) -> u32 {
        u32::try_from(self.epoch.elapsed().as_secs()).unwrap_or(u32::MAX)
    }

    /// Feeds one point that arrived at `now` (see [`SeriesTable::clock`]). Labels are
    /// materialised, and rules matched, only for a series seen for the first time.
    pub fn update(&self, p: &Point, labels: &dyn LabelSource, now: u32) -> Update {
        let mut entry = match self.series.get_mut(&p.series) {
            Some(e) => e,
            None => match self.series.entry(p.series) {
                dashmap::Entry::Occupied(e) => e.into_ref(),
                dashmap::Entry::Vacant(_) if !self.budget.take() => return Update::Overflow,
                dashmap::Entry::Vacant(e) => {
                    let labels = labels.labels(p.origin);
                    let index = self.profiles.index_for(&labels);
                    e.insert(Box::new(Entry {
                        drift: SeriesDrift::new(self.profiles.get(index), index),
                        labels: Arc::new(labels),
                        last_seen: now,
                    }))
                }
            },
        };
        let e = &mut **entry;
        e.last_seen = now;
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

    /// Removes every series without a point for longer than `ttl` at `now` (both on
    /// [`SeriesTable::clock`]), drifting or not, and gives the map's memory back when a
    /// large share went. Locks one shard at a time; ingest into the others goes on.
    pub fn expire(&self, now: u32, ttl: Duration) -> Expired {
        let gone = expire_idle(&self.series, now, ttl_secs(ttl), |e| {
            (e.last_seen, e.drift.state() == SeriesState::DriftDetected)
        });
        self.budget.give_back(gone.series);
        self.expired.fetch_add(gone.series as u64, Ordering::Relaxed);
        gone
    }

    /// Series expired since the table was made.
    pub fn expired_total(&self) -> u64 {
        self.expired.load(Ordering::Relaxed)
    }

    /// Whether the table tracks series `id`.
    pub fn contains(&self, id: SeriesId) -> bool {
        self.series.contains_key(&id)
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
    /// skipped: that series learns again. So is one not saved since `stale_before` (ns;
    /// 0 keeps all): its series expired, or would have by now. Restored series count as
    /// seen now.
    pub fn restore(&self, checkpoints: Vec<Checkpoint>, stale_before: u64) -> usize {
        let mut restored = 0;
        let now = self.clock();
        for c in checkpoints {
            if c.updated_at < stale_before {
                continue;
            }
            let index = self.profiles.index_for(&c.labels);
            let Some(drift) = checkpoint::decode(&c.state) else {
                continue;
            };
            let Some(drift) = drift.rewatched(self.profiles.get(index), index) else {
                continue;
            };
            if !self.budget.take() {
                break;
            }
            self.series.insert(
                c.series_id,
                Box::new(Entry {
                    drift,
                    labels: c.labels,
                    last_seen: now,
                }),
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

#[cfg(test)]
#[path = "table_tests.rs"]
mod tests;
