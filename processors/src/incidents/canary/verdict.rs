//! The verdict of one comparison: the cohort's values over the window against the
//! rest's (see the module above for the rule).

use super::Member;
use crate::drift::stats::Welford;
use crate::drift::MinChange;
use driftd_core::Stats;
use std::sync::Arc;

/// |t| from which the cohort differs, and below which it no longer does.
const START_T: f64 = 5.0;
const END_T: f64 = 2.0;
/// Standard errors by which the difference must pass `min_change` to start.
const PAST_T: f64 = 3.0;
/// Values each side needs in the window before it is judged.
const MIN_VALUES: u64 = 20;

/// One side of a comparison over the window.
#[derive(Default)]
pub struct Side {
    pub values: Welford,
    /// The lowest and highest instance mean.
    pub low: f64,
    pub high: f64,
    pub instances: usize,
    /// The oldest slice with a value.
    pub since: Option<u64>,
}

impl Side {
    fn add(&mut self, values: &Welford, since: Option<u64>) {
        let mean = values.mean();
        (self.low, self.high) = match self.instances {
            0 => (mean, mean),
            _ => (self.low.min(mean), self.high.max(mean)),
        };
        self.instances += 1;
        self.values.merge(values);
        self.since = match (self.since, since) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
}

/// Whether `inside` differs from `rest` by at least `min_change`.
pub fn verdict(inside: &Side, rest: &Side, min_change: &MinChange) -> Verdict {
    let (c, r) = (inside.values.stats(), rest.values.stats());
    if c.samples < MIN_VALUES || r.samples < MIN_VALUES {
        return Verdict::Unsure;
    }
    let diff = c.mean - r.mean;
    let least = min_change.at(r.mean);
    let big = diff != 0.0 && diff.abs() >= least;
    // How sure it is that the difference is past `min_change`, not only past 0.
    let past = match standard_error(&c, &r) {
        0.0 => f64::INFINITY,
        se => (diff.abs() - least) / se,
    };
    let t = welch_t(&c, &r);
    let beyond = if diff > 0.0 {
        c.mean > rest.high
    } else {
        c.mean < rest.low
    };
    if big && beyond && t.abs() >= START_T && past >= PAST_T {
        Verdict::Differs
    } else if !big || t.abs() < END_T {
        Verdict::Alike
    } else {
        Verdict::Unsure
    }
}

/// One member's values over the window, and the oldest slice holding one.
pub type Window<'m> = (&'m Member, Welford, Option<u64>);

/// The cohort's side and the rest's.
pub fn sides(windows: &[Window], cohort: &Arc<str>) -> (Side, Side) {
    let (mut inside, mut rest) = (Side::default(), Side::default());
    for (m, values, since) in windows {
        match m.0 == *cohort {
            true => inside.add(values, *since),
            false => rest.add(values, *since),
        }
    }
    (inside, rest)
}

pub enum Verdict {
    Differs,
    Alike,
    /// Not enough data, or between the start and end thresholds: no change.
    Unsure,
}

/// The standard error of the difference of two means (Welch).
pub fn standard_error(a: &Stats, b: &Stats) -> f64 {
    (a.stddev.powi(2) / a.samples as f64 + b.stddev.powi(2) / b.samples as f64).sqrt()
}

/// Welch's t of two means (infinite when both sides are constant and differ).
pub fn welch_t(a: &Stats, b: &Stats) -> f64 {
    let diff = a.mean - b.mean;
    match (standard_error(a, b), diff == 0.0) {
        (0.0, true) => 0.0,
        (0.0, false) => diff.signum() * f64::INFINITY,
        (se, _) => diff / se,
    }
}
