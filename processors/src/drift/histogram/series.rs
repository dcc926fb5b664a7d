//! One histogram series' distribution drift, through the same lifecycle as scalar
//! series (`lifecycle.rs`), on bucket distributions.
//!
//! - Cumulative points become deltas against the previous point. A new start time or
//!   a count that went down means the source restarted: that point, like the first,
//!   only sets the reference (no sample, so a restart is never a spike).
//! - Every interval gives the derived series (see [`DERIVED`]): the observations per
//!   second, their mean (from the sum), and quantiles read from the buckets. A
//!   histogram sent without buckets gives the first two and no distribution drift.
//! - The baseline is every delta's counts, decayed with the baseline half-life (in
//!   points), learned for `warmup_samples` points, followed while stable, frozen while
//!   drifting, replaced by the drift's distribution after `accept_after`.
//! - A change of bucket layout restarts the series: nothing learned under the old
//!   bounds can be compared with the new ones (a drift in progress ends `rebaselined`).
//! - Points with no observations carry no distribution and change nothing.

use super::buckets::{self, chi_square_quantile, distance, Distance, Distribution};
use super::interval::{interval_start, DerivedPoints, Reference};
use crate::drift::detectors::{HistogramDetector, HistogramJudged, Transition};
use crate::drift::lifecycle::{Change, Evidence, Lifecycle};
use crate::drift::rules::Profile;
use crate::drift::series::Skip;
use driftd_core::consumer::Buckets;
use driftd_core::view::{SeriesSnapshot, SeriesState};
use driftd_core::{DriftEvent, EndReason, EventKind, Point, SeriesId, SeriesLabels, ValueKind};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The quantiles derived from every point, and the suffixes of their series' names.
pub const QUANTILES: [(f64, &str); 3] = [(0.5, "_p50"), (0.9, "_p90"), (0.99, "_p99")];

/// The suffixes of the series derived from each interval of a histogram, in the order
/// of the derived points' `origin`: observations per second, their mean, then the
/// [`QUANTILES`].
pub const DERIVED: [&str; 5] = ["_count", "_mean", "_p50", "_p90", "_p99"];

/// What one point did.
#[derive(Debug, Clone, PartialEq)]
pub struct Fed {
    /// A drift started or ended.
    pub event: Option<DriftEvent>,
    /// The interval's points of the derived series, when the point gave an interval.
    pub derived: Option<DerivedPoints>,
}

/// Per-series histogram state (apart from the scalar table: it holds arrays).
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramSeries {
    profile: u16,
    bounds: Vec<f64>,
    previous: Reference,
    baseline: Distribution,
    recent: Distribution,
    /// The drift's own distribution, to become the baseline on acceptance.
    since_drift: Distribution,
    detector: HistogramDetector,
    learned: u64,
    life: Lifecycle,
    last_time: u64,
    last_mean: f64,
    last: Distance,
    derived: [SeriesId; DERIVED.len()],
}

impl HistogramSeries {
    /// A new series watched with profile `index`; `derived` are the ids of its derived
    /// series, in the order of [`DERIVED`].
    pub fn new(index: u16, derived: [SeriesId; DERIVED.len()]) -> Self {
        HistogramSeries {
            profile: index,
            bounds: Vec::new(),
            previous: Reference::default(),
            baseline: Distribution::default(),
            recent: Distribution::default(),
            since_drift: Distribution::default(),
            detector: HistogramDetector::default(),
            learned: 0,
            life: Lifecycle::default(),
            last_time: 0,
            last_mean: 0.0,
            last: Distance::default(),
            derived,
        }
    }

    /// The profile index this series was given.
    pub fn profile(&self) -> u16 {
        self.profile
    }

    /// Feeds one point whose buckets are in `buckets` (turned into deltas in place).
    /// `id` and `labels` are only used to build an event.
    pub fn update(
        &mut self,
        p: &Profile,
        point: &Point,
        buckets: &mut Buckets,
        id: SeriesId,
        labels: &Arc<SeriesLabels>,
    ) -> Result<Fed, Skip> {
        let cumulative = matches!(point.kind, ValueKind::Histogram { cumulative: true });
        let time = point.time_unix_nano;
        let referenced = self.previous.is_set();
        if time < self.last_time || (cumulative && time == self.last_time && referenced) {
            return Err(Skip::OutOfOrder);
        }
        let mut event = None;
        if buckets.bounds != self.bounds {
            if !valid(buckets) {
                return Err(Skip::Distribution);
            }
            event = self.restart(&buckets.bounds, time, id, labels);
        } else if buckets.counts.len() != self.bounds.len() + 1 {
            return Err(Skip::Distribution);
        }
        let since = interval_start(self.last_time, point, buckets);
        self.last_time = time;
        if cumulative && !self.previous.delta(buckets) {
            return match event {
                Some(_) => Ok(Fed { event, derived: None }),
                None => Err(Skip::CounterStart),
            };
        }
        let counts = &buckets.counts;
        let observed: u64 = counts.iter().sum();
        let mut derived = DerivedPoints::new();
        if let Some(since) = since.filter(|&s| s < time) {
            derived.push(&self.derived, 0, time, observed as f64 * 1e9 / (time - since) as f64);
        }
        if observed == 0 {
            return Ok(Fed {
                event,
                derived: Some(derived),
            });
        }
        let mean = buckets.sum.map(|sum| sum / observed as f64);
        if let Some(mean) = mean {
            derived.push(&self.derived, 1, time, mean);
        }
        if self.bounds.is_empty() {
            // Only a count and a sum: nothing to compare distributions with.
            return Ok(Fed {
                event,
                derived: Some(derived),
            });
        }
        for (i, (q, _)) in QUANTILES.iter().enumerate() {
            derived.push(&self.derived, 2 + i, time, buckets::quantile(&self.bounds, counts, *q));
        }
        self.life.sample(time);
        self.last_mean = mean.unwrap_or_else(|| buckets::stats(&self.bounds, counts).mean);
        let c = &p.histogram;
        self.recent.add(
            counts,
            (-std::f64::consts::LN_2 / f64::from(c.recent_half_life.get())).exp(),
        );
        let learn = 1.0 - p.baseline.alpha;
        if self.life.state() == SeriesState::InsufficientData {
            self.baseline.add(counts, learn);
            self.learned += 1;
            if self.learned >= p.baseline.warmup && self.baseline.effective() >= f64::from(c.min_count) {
                self.life.learned(time);
            }
            return Ok(Fed {
                event,
                derived: Some(derived),
            });
        }
        self.last = distance(&self.baseline, &self.recent);
        let judged = self.judge(p, time);
        let transition = judged.and_then(|j| self.detector.update(c, &j));
        match transition {
            Some(t @ Transition::Start { .. }) => {
                self.since_drift.clear();
                self.since_drift.add(counts, 1.0);
                let change = self.life.apply(t, time);
                event = Some(self.event(id, labels, change, time));
            }
            Some(t) => {
                let change = self.life.apply(t, time);
                event = Some(self.event(id, labels, change, time));
            }
            None if !self.life.drifting() => self.baseline.add(counts, learn),
            None => {
                self.since_drift.add(counts, 1.0);
                event = event.or_else(|| self.accept_if_lasting(p, id, labels, time));
            }
        }
        Ok(Fed {
            event,
            derived: Some(derived),
        })
    }

    /// The recent distribution judged against the baseline; `None` while it holds too
    /// few observations.
    fn judge(&self, p: &Profile, time: u64) -> Option<HistogramJudged> {
        let recent = self.recent.effective();
        if recent < f64::from(p.histogram.min_count) {
            return None;
        }
        // Both distributions are estimates: their sampling noise adds up.
        let n = 1.0 / (1.0 / recent + 1.0 / self.baseline.effective());
        let noise = chi_square_quantile(self.last.freedom, p.histogram.significance_z);
        Some(HistogramJudged {
            time,
            psi: self.last.psi,
            significant: n * self.last.psi > noise,
        })
    }

    /// Starts again under new bounds; a drift in progress ends `rebaselined`.
    fn restart(&mut self, bounds: &[f64], time: u64, id: SeriesId, labels: &Arc<SeriesLabels>) -> Option<DriftEvent> {
        let mut life = self.life;
        let event = life.restart(time).map(|ended| self.event(id, labels, ended, time));
        let buckets = bounds.len() + 1;
        *self = HistogramSeries {
            bounds: bounds.to_vec(),
            baseline: Distribution::new(buckets),
            recent: Distribution::new(buckets),
            since_drift: Distribution::new(buckets),
            life,
            ..HistogramSeries::new(self.profile, self.derived)
        };
        event
    }

    /// A drift that lasted past `accept_after` becomes the new normal.
    fn accept_if_lasting(
        &mut self,
        p: &Profile,
        id: SeriesId,
        labels: &Arc<SeriesLabels>,
        time: u64,
    ) -> Option<DriftEvent> {
        if !self.life.accept_due(p.accept_after, time)
            || self.since_drift.effective() < f64::from(p.histogram.min_count)
        {
            return None;
        }
        let change = self.life.rebaseline(time);
        let e = self.event(id, labels, change, time);
        self.baseline.clone_from(&self.since_drift);
        self.detector = HistogramDetector::default();
        Some(e)
    }

    fn event(&self, id: SeriesId, labels: &Arc<SeriesLabels>, change: Change, time: u64) -> DriftEvent {
        let recent = match change.kind() {
            EventKind::DriftStart => &self.recent,
            EventKind::DriftEnd => &self.since_drift,
        };
        let js = buckets::jensen_shannon(&self.baseline, recent);
        let mut scores = BTreeMap::from([("psi".to_string(), self.last.psi), ("js".to_string(), js)]);
        for (q, suffix) in QUANTILES {
            let name = &suffix[1..];
            let baseline = buckets::quantile(&self.bounds, self.baseline.counts(), q);
            scores.insert(format!("baseline_{name}"), baseline);
            scores.insert(
                format!("recent_{name}"),
                buckets::quantile(&self.bounds, recent.counts(), q),
            );
        }
        let evidence = Evidence {
            detector: "histogram",
            value: self.last_mean,
            scores,
            baseline: buckets::stats(&self.bounds, self.baseline.counts()),
            recent: buckets::stats(&self.bounds, recent.counts()),
        };
        change.event(id, labels, time, evidence)
    }

    /// Whether the series has buckets (a distribution to judge); one without is only
    /// the source of its derived series.
    pub fn has_distribution(&self) -> bool {
        !self.bounds.is_empty()
    }

    /// The drift_end of this series forgotten for `reason` while drifting, as
    /// [`SeriesDrift::forgotten`](crate::drift::series::SeriesDrift::forgotten) says.
    pub fn forgotten(&self, id: SeriesId, labels: &Arc<SeriesLabels>, reason: EndReason) -> Option<DriftEvent> {
        self.life
            .drifting()
            .then(|| self.event(id, labels, self.life.end(reason), self.last_time))
    }

    /// A read-only copy for pull exporters: the score is the PSI, the value the mean of
    /// the newest point's buckets.
    pub fn snapshot(&self, id: SeriesId, labels: &Arc<SeriesLabels>) -> SeriesSnapshot {
        let last = (self.last_time, self.last_mean, self.last.psi);
        let baseline = || buckets::stats(&self.bounds, self.baseline.counts());
        self.life.snapshot(id, labels, last, baseline, "histogram")
    }
}

/// OTLP's explicit-bucket layout: finite, strictly increasing bounds and one count
/// more (no bounds and one count for a histogram without buckets).
fn valid(b: &Buckets) -> bool {
    b.counts.len() == b.bounds.len() + 1
        && b.bounds.iter().all(|x| x.is_finite())
        && b.bounds.windows(2).all(|w| w[0] < w[1])
}
