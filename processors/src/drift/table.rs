//! The series table: a sharded concurrent map from series id to drift state.
//!
//! Each entry remembers when its series last had a point, in whole seconds on the
//! table's own monotonic clock (read once per batch, not per point), so idle series can
//! be expired (`series_ttl`) without a clock read or any extra lock on the hot path.

use super::checkpoint::{self, Changed};
use super::expiry::{forget_where, ttl_secs, Expired};
use super::history::{HistoryConfig, Ring};
use super::rules::Profile;
use super::rules::Profiles;
use super::series::{Outcome, SeriesDrift, Skip};
use super::shards::{Shard, ShardedMap};
use driftd_core::history::History;
use driftd_core::store::{Checkpoint, SeriesStatus};
use driftd_core::view::{SeriesSnapshot, SeriesState, SeriesView};
use driftd_core::{EndReason, LabelSource, Point, SeriesId, SeriesLabels, ValueKind};
use std::cell::Cell;
use std::collections::hash_map::Entry as HashEntry;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Entry {
    drift: SeriesDrift,
    labels: Arc<SeriesLabels>,
    /// When the series last had a point, in seconds on the table's clock (arrival, not
    /// event time), for expiry. Not checkpointed.
    last_seen: u32,
    /// Its recent history, when it was given a ring (see [`HistoryConfig`]).
    ring: Option<Box<Ring>>,
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
/// 16 bytes and an entry's 280 (the state, its labels pointer, last-seen time and ring
/// pointer) are
/// allocated only for series that exist, at the price of one pointer hop per point.
pub struct SeriesTable {
    series: ShardedMap<Box<Entry>>,
    profiles: Profiles,
    budget: Arc<SeriesBudget>,
    points: AtomicU64,
    /// Zero of the table's clock (see [`SeriesTable::clock`]).
    epoch: Instant,
    /// Series expired since the table was made.
    expired: AtomicU64,
    history: HistoryConfig,
    /// Places for rings, up to `history.max_rings()`.
    rings: Arc<SeriesBudget>,
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
    fn take(&self) -> bool {
        self.take_within(self.max)
    }

    /// Takes a place while fewer than `limit` are taken (a reserve past the cap for
    /// some); `false` when none is left.
    fn take_within(&self, limit: usize) -> bool {
        self.used.load(Ordering::Relaxed) < limit
            && self
                .used
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| (n < limit).then_some(n + 1))
                .is_ok()
    }

    /// The entry of series `id` in `shard`, made by `new` when the series is new and
    /// a place is left for it; `None` when it is new and the cap is reached.
    pub fn entry<'s, V>(&self, shard: &'s mut Shard<V>, id: SeriesId, new: impl FnOnce() -> V) -> Option<&'s mut V> {
        match shard.entry(id) {
            HashEntry::Occupied(e) => Some(e.into_mut()),
            HashEntry::Vacant(_) if !self.take() => None,
            HashEntry::Vacant(e) => Some(e.insert(new())),
        }
    }

    /// Gives back the places of `n` series that went.
    pub fn give_back(&self, n: usize) {
        self.used.fetch_sub(n, Ordering::Relaxed);
    }
}

impl SeriesTable {
    /// An empty table that watches series as `profiles` say, at most `max_series`.
    pub fn new(profiles: Profiles, max_series: usize) -> Self {
        Self::with_budget(profiles, SeriesBudget::new(max_series))
    }

    /// An empty table whose new series take their places from `budget`, with the
    /// default history (see [`SeriesTable::with_history`]).
    pub fn with_budget(profiles: Profiles, budget: Arc<SeriesBudget>) -> Self {
        let history = HistoryConfig::default();
        SeriesTable {
            series: ShardedMap::default(),
            profiles,
            budget,
            points: AtomicU64::new(0),
            epoch: Instant::now(),
            expired: AtomicU64::new(0),
            rings: SeriesBudget::new(history.series),
            history,
        }
    }

    /// This table keeping history as `history` says.
    pub fn with_history(mut self, history: HistoryConfig) -> Self {
        self.rings = SeriesBudget::new(history.series);
        self.history = history;
        self
    }

    /// Now, in whole seconds since the table was made: the clock series are stamped
    /// with. Read once per batch.
    pub fn clock(&self) -> u32 {
        u32::try_from(self.epoch.elapsed().as_secs()).unwrap_or(u32::MAX)
    }

    /// Feeds one point that arrived at `now` (see [`SeriesTable::clock`]). Labels are
    /// materialised, and rules matched, only for a series seen for the first time.
    pub fn update(&self, p: &Point, labels: &dyn LabelSource, now: u32) -> Update {
        self.series
            .write(p.series, |shard| self.update_in(shard, p, labels, now))
    }

    /// Feeds every scalar point of a batch, as [`SeriesTable::update`] does, taking
    /// each shard's lock once; `done` hears what happened to each point (points of
    /// one series in order). Histogram points are left to the histogram table.
    pub fn update_all(&self, points: &[Point], labels: &dyn LabelSource, now: u32, mut done: impl FnMut(Update)) {
        self.series.each_point(
            points,
            |e| u64::from(e.last_seen) ^ e.drift.warm(),
            |shard, p| {
                if !matches!(p.kind, ValueKind::Histogram { .. }) {
                    done(self.update_in(shard, p, labels, now));
                }
            },
        );
    }

    fn update_in(&self, shard: &mut Shard<Box<Entry>>, p: &Point, labels: &dyn LabelSource, now: u32) -> Update {
        let new = || {
            let labels = labels.labels(p.origin);
            let index = self.profiles.index_for(&labels);
            Box::new(Entry {
                drift: SeriesDrift::new(self.profiles.get(index), index),
                labels: Arc::new(labels),
                last_seen: now,
                ring: None,
            })
        };
        let Some(e) = self.budget.entry(shard, p.series, new) else {
            return Update::Overflow;
        };
        e.last_seen = now;
        let profile = self.profiles.get(e.drift.profile());
        match e.drift.update(profile, p, p.series, &e.labels) {
            Ok(mut outcome) => {
                self.remember(e, profile, &mut outcome);
                Update::Fed(outcome)
            }
            Err(skip) => Update::Skipped(skip),
        }
    }

    /// Adds the sample just judged to the series' ring (giving it one while places
    /// are left; a drifting series may take one of the reserve), and the ring's
    /// contents to the event it raised, as its evidence.
    fn remember(&self, e: &mut Entry, profile: &Profile, outcome: &mut Outcome) {
        if self.history.series == 0 {
            return;
        }
        if e.ring.is_none() {
            let limit = match e.drift.state() {
                SeriesState::DriftDetected => self.history.max_rings(),
                _ => self.history.series,
            };
            if !self.rings.take_within(limit) {
                return;
            }
            e.ring = Some(Box::default());
        }
        let Some(ring) = e.ring.as_mut() else { return };
        let (time, value, level, sd) = e.drift.last_sample(profile);
        ring.record(&self.history, time, value, level, sd);
        if let Outcome::Event(event) = outcome {
            event.snapshot = Some(Arc::new(ring.history()));
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
        let ttl = ttl_secs(ttl);
        let gone = self.forget(EndReason::Expired, |last_seen| now.saturating_sub(last_seen) > ttl);
        self.expired.fetch_add(gone.series as u64, Ordering::Relaxed);
        gone
    }

    /// Removes every series `gone` picks by when it last had a point (on
    /// [`SeriesTable::clock`]), giving back its places, as [`SeriesTable::expire`] does;
    /// a drifting one ends for `reason`.
    pub fn forget(&self, reason: EndReason, mut gone: impl FnMut(u32) -> bool) -> Expired {
        let rings = Cell::new(0);
        let forgotten = forget_where(
            &self.series,
            |e| {
                let go = gone(e.last_seen);
                if go && e.ring.is_some() {
                    rings.set(rings.get() + 1);
                }
                go
            },
            |id, e| {
                let profile = self.profiles.get(e.drift.profile());
                e.drift.forgotten(profile, id, &e.labels, reason)
            },
        );
        self.budget.give_back(forgotten.series);
        self.rings.give_back(rings.get());
        forgotten
    }

    /// Adds to `out` when each series last had a point, on [`SeriesTable::clock`].
    pub fn last_seen(&self, out: &mut Vec<u32>) {
        self.series.for_each(|_, e| out.push(e.last_seen));
    }

    /// Series expired since the table was made.
    pub fn expired_total(&self) -> u64 {
        self.expired.load(Ordering::Relaxed)
    }

    /// Whether the table tracks series `id`.
    pub fn contains(&self, id: SeriesId) -> bool {
        self.series.read(id, |e| e.is_some())
    }
}

impl SeriesTable {
    /// Every series whose sample count differs from `saved`, ready to checkpoint;
    /// `with_history` (the save at shutdown) also takes every series with a ring, and
    /// the ring with it.
    pub fn changed_since(&self, saved: &HashMap<SeriesId, u64>, now: u64, with_history: bool) -> Vec<Changed> {
        let mut out = Vec::new();
        self.series.for_each(|id, e| {
            let ring = e.ring.as_deref().filter(|_| with_history);
            if ring.is_none() && saved.get(&id) == Some(&e.drift.sample_count()) {
                return;
            }
            let snapshot = e.drift.snapshot(self.profiles.get(e.drift.profile()), id, &e.labels);
            out.push(Changed {
                checkpoint: Checkpoint {
                    series_id: id,
                    labels: e.labels.clone(),
                    state: checkpoint::encode(&e.drift, ring),
                    updated_at: now,
                },
                status: SeriesStatus::from_snapshot(&snapshot, now),
                samples: snapshot.sample_count,
            });
        });
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
            let Some((drift, ring)) = checkpoint::decode(&c.state) else {
                continue;
            };
            let Some(drift) = drift.rewatched(self.profiles.get(index), index) else {
                continue;
            };
            if !self.budget.take() {
                break;
            }
            let ring = ring.filter(|_| self.rings.take_within(self.history.max_rings()));
            let entry = Box::new(Entry {
                drift,
                labels: c.labels,
                last_seen: now,
                ring,
            });
            self.series.write(c.series_id, |shard| shard.insert(c.series_id, entry));
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
        self.series.read(id, |e| {
            e.map(|e| e.drift.snapshot(self.profiles.get(e.drift.profile()), id, &e.labels))
        })
    }

    fn for_each(&self, visit: &mut dyn FnMut(SeriesSnapshot)) {
        self.series.for_each(|id, e| {
            visit(e.drift.snapshot(self.profiles.get(e.drift.profile()), id, &e.labels));
        });
    }

    fn history(&self, id: SeriesId) -> Option<History> {
        self.series
            .read(id, |e| e.and_then(|e| e.ring.as_ref()).map(|r| r.history()))
    }
}

#[cfg(test)]
#[path = "table_tests.rs"]
mod tests;
