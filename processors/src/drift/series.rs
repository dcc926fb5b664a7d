//! One scalar series' drift: its value judged against a baseline updated slowly while
//! stable, frozen while drifting, and relearned when a drift lasts past
//! `accept_after`, through the lifecycle of `lifecycle.rs`. This is the hot, fixed-size part
//! kept in the series table (≤ 256 bytes; labels live apart).

use super::baseline::{Baseline, Judged};
use super::detectors::{Detector, Sample, Transition};
use super::lifecycle::{Change, Evidence, Lifecycle};
use super::rules::Profile;
use super::stats::{percent_of, Welford};
use driftd_core::view::{SeriesSnapshot, SeriesState};
use driftd_core::{DriftEvent, EndReason, Point, SeriesId, SeriesLabels, ValueKind};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Wariness added by each drift that ends by itself: thresholds ×1.5, compounding.
const WARY_STEP: f32 = 1.5;
/// Most wariness: thresholds at most ×4.
const WARY_MAX: f32 = 3.0;
/// Per stable sample, wariness fades to this much of itself (half-life 1,000 samples).
const WARY_FADE: f32 = 1.0 - std::f32::consts::LN_2 / 1_000.0;

/// Why a point was not fed to the detector.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Skip {
    /// Older than the series' newest point (or, for counters, not newer).
    OutOfOrder,
    /// The first point of a counter, or its first after a reset: a rate needs two.
    CounterStart,
    /// A histogram's distribution, which scalar detectors do not read (and the
    /// histogram detector skips when its buckets are missing or malformed).
    Distribution,
}

/// What one point did to the series.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Nothing to report.
    Quiet,
    /// A drift started or ended. Boxed: events are rare, and an outcome returned by
    /// value on every point stays one word instead of a whole event to copy.
    Event(Box<DriftEvent>),
}

/// Hot per-series state.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SeriesDrift {
    baseline: Baseline,
    detector: Detector,
    /// Deseasonalised values since the drift began (to relearn from on acceptance, and
    /// the "recent" figures events report). While stable: those of the detector's
    /// current upward excursion (since its upward statistic last rested), and in
    /// `falling` those of its downward one; a drift that starts is made of one of them.
    since_drift: Welford,
    falling: Welford,
    /// Previous raw value of a counter (NaN until the first one arrives).
    counter_last: f64,
    last_time: u64,
    last_value: f64,
    life: Lifecycle,
    profile: u16,
    /// How much the detector's thresholds are raised (0 = not at all). A drift that
    /// ends by itself (the series came back, nothing was accepted) raises them by 50%,
    /// compounding up to ×4; the raise fades with a half-life of 1,000 stable samples.
    /// A series that keeps raising short drifts is noisier than its baseline says, so
    /// it is asked for more evidence; one that behaves gets the tuned thresholds back.
    /// Noise with no drift in it never sees this (QUALITY.md). `f32`: it fits in the
    /// struct's padding.
    wariness: f32,
}

impl SeriesDrift {
    /// A new series watched with `profile` (index `index` among the processor's).
    pub fn new(profile: &Profile, index: u16) -> Self {
        SeriesDrift {
            baseline: Baseline::default(),
            detector: Detector::new(&profile.detector),
            since_drift: Welford::default(),
            falling: Welford::default(),
            counter_last: f64::NAN,
            last_time: 0,
            last_value: 0.0,
            life: Lifecycle::default(),
            profile: index,
            wariness: 0.0,
        }
    }

    /// A word from each part of the state, read by the table ahead of a batch's
    /// updates so that the state's cache lines load side by side instead of one
    /// update at a time (the value means nothing).
    pub fn warm(&self) -> u64 {
        self.life.sample_count()
            ^ self.last_time
            ^ self.baseline.samples()
            ^ self.since_drift.seen()
            ^ self.falling.seen()
    }

    /// The profile index this series was given.
    pub fn profile(&self) -> u16 {
        self.profile
    }

    /// Where the series is in its lifecycle.
    pub fn state(&self) -> SeriesState {
        self.life.state()
    }

    /// Samples seen since the series appeared.
    pub fn sample_count(&self) -> u64 {
        self.life.sample_count()
    }

    /// This restored state, now watched with `profile` (index `index`), or `None` when
    /// that profile uses another detector or seasonality (the saved state would mean
    /// nothing to it, or could not be indexed).
    pub fn rewatched(mut self, profile: &Profile, index: u16) -> Option<Self> {
        if Detector::new(&profile.detector).name() != self.detector.name()
            || !self.baseline.fits(profile.baseline.seasonality)
        {
            return None;
        }
        self.profile = index;
        Some(self)
    }

    /// Feeds one point. `id` and `labels` are only used to build an event.
    pub fn update(
        &mut self,
        p: &Profile,
        point: &Point,
        id: SeriesId,
        labels: &Arc<SeriesLabels>,
    ) -> Result<Outcome, Skip> {
        let x = self.value_of(point)?;
        let time = point.time_unix_nano;
        self.life.sample(time);
        self.last_time = time;
        self.last_value = x;

        let judged = self.baseline.judge(&p.baseline, x, time);
        let outcome = match self.life.state() {
            SeriesState::InsufficientData => {
                self.baseline.learn(&p.baseline, x, time, &judged);
                if self.baseline.ready(&p.baseline, time) {
                    self.life.learned(time);
                }
                Outcome::Quiet
            }
            SeriesState::Stable | SeriesState::DriftDetected => {
                if !self.life.drifting() {
                    self.wariness *= WARY_FADE;
                }
                let sample = Sample {
                    time,
                    z: judged.z,
                    r: judged.r,
                    spread: judged.spread,
                    clip: judged.clip,
                    wariness: f64::from(self.wariness),
                };
                match self.detector.update(&p.detector, &sample) {
                    Some(t @ Transition::Start { .. }) => {
                        self.since_drift.add(judged.residual);
                        self.falling.add(judged.residual);
                        let (rising, falling) = (
                            self.moved(p, &self.since_drift, judged.sd),
                            self.moved(p, &self.falling, judged.sd),
                        );
                        if falling > rising {
                            self.since_drift = self.falling;
                        }
                        self.falling = Welford::default();
                        if rising.max(falling) < p.min_change.at(self.baseline.level(time)) {
                            // Statistically a change, practically none: the series stays
                            // stable, keeps learning, and the detector starts over.
                            self.detector.reset();
                            self.since_drift = Welford::default();
                            self.baseline.learn(&p.baseline, x, time, &judged);
                            return Ok(self.observed(&judged, Outcome::Quiet));
                        }
                        let change = self.life.apply(t, time);
                        Outcome::Event(Box::new(self.event(p, id, labels, change, judged.z)))
                    }
                    Some(t @ Transition::End { .. }) => {
                        let change = self.life.apply(t, time);
                        self.wariness = ((1.0 + self.wariness) * WARY_STEP - 1.0).min(WARY_MAX);
                        let e = self.event(p, id, labels, change, judged.z);
                        self.since_drift = Welford::default();
                        Outcome::Event(Box::new(e))
                    }
                    None if !self.life.drifting() => {
                        if !(self.baseline.learns_fast() && self.detector.suspicious(&p.detector)) {
                            self.baseline.learn(&p.baseline, x, time, &judged);
                        }
                        // What a drift starting now would be made of. A jump of more
                        // than 4 σ within an excursion starts it again: what came before
                        // it belongs to the old level.
                        let (rising, falling) = self.detector.excursions();
                        for (open, samples) in [(rising, &mut self.since_drift), (falling, &mut self.falling)] {
                            let jump = (judged.residual - samples.mean()).abs() > 4.0 * judged.sd;
                            if !open || jump {
                                *samples = Welford::default();
                            }
                            if open {
                                samples.add(judged.residual);
                            }
                        }
                        Outcome::Quiet
                    }
                    None => {
                        self.since_drift.add(judged.residual);
                        self.accept_if_lasting(p, id, labels, time, judged.z)
                    }
                }
            }
        };
        Ok(self.observed(&judged, outcome))
    }

    /// Remembers the judged sample (for prewhitening the next one) and passes `outcome` on.
    fn observed(&mut self, judged: &Judged, outcome: Outcome) -> Outcome {
        self.baseline.observe(judged);
        outcome
    }

    /// How far `samples` show the series moved from its baseline, to compare with the
    /// profile's `min_change`: the larger of the change of level, less two standard
    /// errors (a few noisy samples do not pass for a large change), and of how far the
    /// samples lie from the baseline's level (their root mean square deviation: a wider
    /// spread matters once the series strays by `min_change`). `sd`: the baseline's
    /// spread now.
    fn moved(&self, p: &Profile, samples: &Welford, sd: f64) -> f64 {
        let moved = samples.stats();
        let n = moved.samples.max(1) as f64;
        let shift = moved.mean - self.baseline.stats(&p.baseline).mean;
        let level = shift.abs() - 2.0 * sd / n.sqrt();
        let spread = if moved.samples >= 2 {
            (moved.stddev * moved.stddev + shift * shift).sqrt()
        } else {
            f64::NEG_INFINITY
        };
        level.max(spread)
    }

    /// A drift that lasted past `accept_after` becomes the new normal.
    fn accept_if_lasting(
        &mut self,
        p: &Profile,
        id: SeriesId,
        labels: &Arc<SeriesLabels>,
        time: u64,
        z: f64,
    ) -> Outcome {
        if !self.life.accept_due(p.accept_after, time) || self.since_drift.stats().samples < 10 {
            return Outcome::Quiet;
        }
        self.baseline.reset_to(&p.baseline, self.since_drift.stats());
        self.detector.reset();
        let change = self.life.rebaseline(time);
        let e = self.event(p, id, labels, change, z);
        // The drift's samples are the baseline now; the next excursion starts empty.
        self.since_drift = Welford::default();
        Outcome::Event(Box::new(e))
    }

    /// The value the detector sees: the point's value, or a per-second rate for counters.
    fn value_of(&mut self, p: &Point) -> Result<f64, Skip> {
        match p.kind {
            ValueKind::Gauge => {
                if p.time_unix_nano < self.last_time {
                    return Err(Skip::OutOfOrder);
                }
                Ok(p.value)
            }
            ValueKind::CumulativeCounter => {
                if self.counter_last.is_nan() {
                    self.counter_last = p.value;
                    self.last_time = p.time_unix_nano;
                    return Err(Skip::CounterStart);
                }
                if p.time_unix_nano <= self.last_time {
                    return Err(Skip::OutOfOrder);
                }
                let seconds = (p.time_unix_nano - self.last_time) as f64 / 1e9;
                let increase = p.value - self.counter_last;
                self.counter_last = p.value;
                if increase < 0.0 {
                    // A counter that went down was reset: its new total is only the
                    // reference for the next rate (a rate over the gap would be a spike).
                    self.last_time = p.time_unix_nano;
                    return Err(Skip::CounterStart);
                }
                Ok(increase / seconds)
            }
            ValueKind::Histogram { .. } => Err(Skip::Distribution),
        }
    }

    fn event(&self, p: &Profile, id: SeriesId, labels: &Arc<SeriesLabels>, change: Change, z: f64) -> DriftEvent {
        let mut scores = BTreeMap::from([("z".to_string(), z)]);
        self.detector.scores(&mut scores);
        // How far the series moved from its baseline, in its own units and relative to
        // its level: what the drift's samples (or the detector's excursion) say.
        let moved = self.since_drift.stats();
        if moved.samples > 0 {
            let change = moved.mean - self.baseline.stats(&p.baseline).mean;
            scores.insert("change".to_string(), change);
            if let Some(p) = percent_of(change, self.baseline.level(self.last_time)) {
                scores.insert("change_percent".to_string(), p);
            }
        }
        let evidence = Evidence {
            detector: self.detector.name(),
            value: self.last_value,
            scores,
            baseline: self.baseline.stats(&p.baseline),
            recent: self.since_drift.stats(),
        };
        change.event(id, labels, self.last_time, evidence)
    }

    /// The drift_end of this series forgotten for `reason` while drifting, stamped
    /// with its newest sample's time; `None` when it is not drifting.
    pub fn forgotten(
        &self,
        p: &Profile,
        id: SeriesId,
        labels: &Arc<SeriesLabels>,
        reason: EndReason,
    ) -> Option<DriftEvent> {
        if !self.life.drifting() {
            return None;
        }
        let z = self.baseline.judge(&p.baseline, self.last_value, self.last_time).z;
        Some(self.event(p, id, labels, self.life.end(reason), z))
    }

    /// The newest sample fed to the detector: its time and value, with the baseline's
    /// level and standard deviation (NaN while the baseline is learned).
    pub fn last_sample(&self, p: &Profile) -> (u64, f64, f64, f64) {
        let (level, sd) = match self.life.state() {
            SeriesState::InsufficientData => (f64::NAN, f64::NAN),
            _ => (self.baseline.level(self.last_time), self.baseline.stddev(&p.baseline)),
        };
        (self.last_time, self.last_value, level, sd)
    }

    /// A read-only copy for pull exporters.
    pub fn snapshot(&self, p: &Profile, id: SeriesId, labels: &Arc<SeriesLabels>) -> SeriesSnapshot {
        let score = self.baseline.judge(&p.baseline, self.last_value, self.last_time).z;
        let last = (self.last_time, self.last_value, score);
        self.life.snapshot(
            id,
            labels,
            last,
            || self.baseline.stats(&p.baseline),
            self.detector.name(),
        )
    }
}
