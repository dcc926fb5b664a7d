//! One interval of a histogram: cumulative points turned into deltas against the
//! previous point (a restarted source only sets the reference), when the interval
//! began, and the points of the series derived from it.

use super::series::DERIVED;
use driftd_core::consumer::Buckets;
use driftd_core::{Point, SeriesId, ValueKind};

/// The derived series' points of one interval (those it had: no mean without a sum or
/// without observations, no quantiles without buckets or observations).
#[derive(Debug, Clone, PartialEq)]
pub struct DerivedPoints {
    points: [Point; DERIVED.len()],
    len: usize,
}

impl DerivedPoints {
    /// No points yet.
    pub fn new() -> Self {
        let none = Point {
            series: SeriesId(0),
            time_unix_nano: 0,
            value: 0.0,
            kind: ValueKind::Gauge,
            origin: 0,
        };
        DerivedPoints {
            points: [none; DERIVED.len()],
            len: 0,
        }
    }

    /// Adds the point of derived series `which` (an index in [`DERIVED`]).
    pub fn push(&mut self, series: &[SeriesId; DERIVED.len()], which: usize, time: u64, value: f64) {
        self.points[self.len] = Point {
            series: series[which],
            time_unix_nano: time,
            value,
            kind: ValueKind::Gauge,
            origin: which as u32,
        };
        self.len += 1;
    }

    /// The points, `origin` the index of their suffix in [`DERIVED`].
    pub fn iter(&self) -> impl Iterator<Item = &Point> {
        self.points[..self.len].iter()
    }
}

/// The previous cumulative point: the reference the next one's delta is taken from.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Reference {
    /// Bucket counts (empty: no reference yet under these bounds).
    counts: Vec<u64>,
    sum: Option<f64>,
    start_time: u64,
}

impl Reference {
    /// Whether a reference point is held.
    pub fn is_set(&self) -> bool {
        !self.counts.is_empty()
    }

    /// Turns a cumulative point's counts and sum into deltas in place; `false` when it
    /// only becomes the reference: the first point, and a restarted source (a new
    /// start time, or a count that went down).
    pub fn delta(&mut self, b: &mut Buckets) -> bool {
        let restarted = self.counts.len() != b.counts.len()
            || (self.start_time != b.start_time_unix_nano && self.start_time != 0 && b.start_time_unix_nano != 0)
            || b.counts.iter().zip(&self.counts).any(|(c, p)| c < p);
        let sum = b.sum;
        if restarted {
            self.counts.clone_from(&b.counts);
        } else {
            for (c, p) in b.counts.iter_mut().zip(self.counts.iter_mut()) {
                let now = *c;
                *c -= *p;
                *p = now;
            }
            b.sum = sum.zip(self.sum).map(|(now, before)| now - before);
        }
        self.sum = sum;
        self.start_time = b.start_time_unix_nano;
        !restarted
    }
}

/// When the interval `point` covers began (`last_time`: the series' previous point,
/// 0 for none): for a cumulative point the previous point's time, for a delta point
/// its start time, else the previous point's time.
pub fn interval_start(last_time: u64, point: &Point, buckets: &Buckets) -> Option<u64> {
    let previous = (last_time > 0).then_some(last_time);
    match point.kind {
        ValueKind::Histogram { cumulative: true } => previous,
        _ if buckets.start_time_unix_nano > 0 => Some(buckets.start_time_unix_nano),
        _ => previous,
    }
}
