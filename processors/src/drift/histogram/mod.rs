//! Histogram series: distribution drift of OTLP histogram points, and the series
//! derived from each interval (`<name>_count` per second, `_mean`, `_p50`, `_p90`,
//! `_p99`), which the processor feeds to the scalar table like any other series.
//!
//! Histogram state holds per-bucket arrays, so it lives in its own table beside the
//! scalar one (whose entries stay within their fixed budget). It is not checkpointed:
//! after a restart histogram series learn their baselines again.

mod buckets;
mod interval;
mod series;
#[cfg(test)]
mod series_tests;

pub use series::DERIVED;

use super::expiry::{forget_where, Expired};
use super::rules::Profiles;
use super::series::Skip;
use super::shards::ShardedMap;
use super::table::SeriesBudget;
use driftd_core::consumer::Buckets;
use driftd_core::view::{SeriesSnapshot, SeriesView};
use driftd_core::{DriftEvent, EndReason, LabelSource, Point, SeriesId, SeriesLabels};
use interval::DerivedPoints;
use series::HistogramSeries;
use std::sync::Arc;

struct Entry {
    series: HistogramSeries,
    labels: Arc<SeriesLabels>,
    /// When the series last had a point, on the scalar table's clock (for expiry).
    last_seen: u32,
}

/// What happened to one histogram point.
// Returned once per point and taken apart at once, never stored: boxing the large
// variant would only add an allocation.
#[allow(clippy::large_enum_variant)]
pub enum HistogramUpdate {
    /// Read: maybe an event, and the interval's derived points (to feed with
    /// [`DerivedLabels`] over `labels`).
    Fed {
        /// A drift started or ended.
        event: Option<DriftEvent>,
        /// The derived points and the histogram's labels.
        derived: Option<(DerivedPoints, Arc<SeriesLabels>)>,
    },
    /// Not read, and why.
    Skipped(Skip),
    /// A new series past the cardinality cap.
    Overflow,
}

/// Every histogram series one drift processor tracks.
pub struct HistogramTable {
    series: ShardedMap<Entry>,
    profiles: Profiles,
    budget: Arc<SeriesBudget>,
}

impl HistogramTable {
    /// An empty table that watches series as `profiles` say, taking the places of new
    /// series from `budget` (shared with the scalar table).
    pub fn new(profiles: Profiles, budget: Arc<SeriesBudget>) -> Self {
        HistogramTable {
            series: ShardedMap::default(),
            profiles,
            budget,
        }
    }

    /// Feeds one histogram point, reading its buckets into `buckets` (a buffer the
    /// caller reuses). For a series seen for the first time, labels are materialised,
    /// rules matched and the derived series' ids computed, if the budget has room.
    pub fn update(&self, p: &Point, source: &dyn LabelSource, buckets: &mut Buckets, now: u32) -> HistogramUpdate {
        buckets.clear();
        if !source.buckets(p.origin, buckets) {
            return HistogramUpdate::Skipped(Skip::Distribution);
        }
        self.series.write(p.series, |shard| {
            let new = || {
                let labels = source.labels(p.origin);
                let index = self.profiles.index_for(&labels);
                let derived = std::array::from_fn(|i| DerivedLabels(&labels).labels(i as u32).id());
                Entry {
                    series: HistogramSeries::new(index, derived),
                    labels: Arc::new(labels),
                    last_seen: now,
                }
            };
            let Some(e) = self.budget.entry(shard, p.series, new) else {
                return HistogramUpdate::Overflow;
            };
            e.last_seen = now;
            let profile = self.profiles.get(e.series.profile());
            match e.series.update(profile, p, buckets, p.series, &e.labels) {
                Ok(fed) => HistogramUpdate::Fed {
                    event: fed.event,
                    derived: fed.derived.map(|points| (points, e.labels.clone())),
                },
                Err(skip) => HistogramUpdate::Skipped(skip),
            }
        })
    }

    /// Forgets series without a point for more than `ttl` seconds at `now`, as
    /// [`SeriesTable::expire`](super::table::SeriesTable::expire) does.
    pub fn expire(&self, now: u32, ttl: u32) -> Expired {
        self.forget(EndReason::Expired, |last_seen| now.saturating_sub(last_seen) > ttl)
    }

    /// Forgets the series `gone` picks by when they last had a point, as
    /// [`SeriesTable::forget`](super::table::SeriesTable::forget) does.
    pub fn forget(&self, reason: EndReason, mut gone: impl FnMut(u32) -> bool) -> Expired {
        let forgotten = forget_where(
            &self.series,
            |e| gone(e.last_seen),
            |id, e| e.series.forgotten(id, &e.labels, reason),
        );
        self.budget.give_back(forgotten.series);
        forgotten
    }

    /// Adds to `out` when each series last had a point.
    pub fn last_seen(&self, out: &mut Vec<u32>) {
        self.series.for_each(|_, e| out.push(e.last_seen));
    }

    /// Whether the table tracks histogram series `id`.
    pub fn contains(&self, id: SeriesId) -> bool {
        self.series.read(id, |e| e.is_some())
    }
}

/// The labels of the series derived from a histogram: its own labels under the metric
/// name plus the suffix of derived series `origin` (the derived points' origin, an
/// index in [`DERIVED`]).
pub struct DerivedLabels<'a>(pub &'a SeriesLabels);

impl LabelSource for DerivedLabels<'_> {
    fn labels(&self, origin: u32) -> SeriesLabels {
        let suffix = DERIVED[origin as usize % DERIVED.len()];
        SeriesLabels::new(format!("{}{suffix}", self.0.metric), self.0.labels.clone())
    }
}

/// Histograms without buckets are not shown: they have no distribution to judge, and
/// their derived series are in the scalar table.
impl SeriesView for HistogramTable {
    fn series_count(&self) -> usize {
        let mut n = 0;
        self.series
            .for_each(|_, e| n += usize::from(e.series.has_distribution()));
        n
    }

    fn points_processed(&self) -> u64 {
        // The processor's scalar table counts every point, histograms included.
        0
    }

    fn get(&self, id: SeriesId) -> Option<SeriesSnapshot> {
        self.series.read(id, |e| {
            e.filter(|e| e.series.has_distribution())
                .map(|e| e.series.snapshot(id, &e.labels))
        })
    }

    fn for_each(&self, visit: &mut dyn FnMut(SeriesSnapshot)) {
        self.series.for_each(|id, e| {
            if e.series.has_distribution() {
                visit(e.series.snapshot(id, &e.labels))
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::DriftConfig;
    use driftd_core::ValueKind;

    /// One histogram series with fixed buckets.
    struct Latency;

    impl LabelSource for Latency {
        fn labels(&self, _: u32) -> SeriesLabels {
            SeriesLabels::new("latency", vec![])
        }

        fn buckets(&self, _: u32, out: &mut Buckets) -> bool {
            out.bounds.extend([10.0, 100.0]);
            out.counts.extend([5, 30, 5]);
            true
        }
    }

    #[test]
    fn idle_histogram_series_expire_and_busy_ones_stay() {
        let table = HistogramTable::new(Profiles::new(&DriftConfig::default()), SeriesBudget::new(10));
        let point = |series, t| Point {
            series: SeriesId(series),
            time_unix_nano: t,
            value: 40.0,
            kind: ValueKind::Histogram { cumulative: false },
            origin: 0,
        };
        let mut buckets = Buckets::default();
        table.update(&point(1, 1), &Latency, &mut buckets, 0);
        table.update(&point(2, 1), &Latency, &mut buckets, 0);
        table.update(&point(2, 2), &Latency, &mut buckets, 50);
        assert_eq!(
            table.expire(60, 30),
            Expired {
                series: 1,
                ends: Vec::new()
            }
        );
        assert_eq!(table.series_count(), 1);
        assert!(table.series.read(SeriesId(2), |e| e.is_some()));
    }

    #[test]
    fn histogram_and_scalar_series_share_one_cap() {
        use crate::drift::table::{SeriesTable, Update};
        let profiles = || Profiles::new(&DriftConfig::default());
        let budget = SeriesBudget::new(2);
        let scalars = SeriesTable::with_budget(profiles(), budget.clone());
        let histograms = HistogramTable::new(profiles(), budget);
        let point = |series, kind| Point {
            series: SeriesId(series),
            time_unix_nano: 1,
            value: 40.0,
            kind,
            origin: 0,
        };
        let histogram = ValueKind::Histogram { cumulative: false };
        let mut buckets = Buckets::default();
        assert!(matches!(
            scalars.update(&point(1, ValueKind::Gauge), &Latency, 0),
            Update::Fed(_)
        ));
        assert!(matches!(
            histograms.update(&point(2, histogram), &Latency, &mut buckets, 0),
            HistogramUpdate::Fed { .. }
        ));
        assert!(matches!(
            scalars.update(&point(3, ValueKind::Gauge), &Latency, 0),
            Update::Overflow
        ));
        assert!(matches!(
            histograms.update(&point(4, histogram), &Latency, &mut buckets, 0),
            HistogramUpdate::Overflow
        ));
        // An expired histogram series gives its place back.
        histograms.expire(100, 10);
        assert!(matches!(
            scalars.update(&point(3, ValueKind::Gauge), &Latency, 0),
            Update::Fed(_)
        ));
    }
}
