//! One series' drift state: the hot, fixed-size part kept in the series table.

use super::baseline::{Ewma, Welford};
use super::zscore::{Transition, ZScore, ZScoreParams};
use driftd_core::view::{SeriesSnapshot, SeriesState};
use driftd_core::{DriftEvent, EventKind, Point, SeriesId, SeriesLabels, ValueKind};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Per-processor settings resolved from config once.
#[derive(Copy, Clone, Debug)]
pub struct Settings {
    /// Samples learned before judging.
    pub warmup: u64,
    /// The rule set's thresholds.
    pub zscore: ZScoreParams,
    /// Span (samples) of the "recent" statistics in events.
    pub recent_span: u32,
}

/// Why a point was not fed to the detector.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Skip {
    /// Older than the series' newest point (or, for counters, not newer).
    OutOfOrder,
    /// The first point of a counter: a rate needs two.
    CounterStart,
}

/// The detectors a series can be watched by (static dispatch).
#[derive(Copy, Clone, Debug, PartialEq)]
enum Detector {
    ZScore(ZScore),
}

impl Detector {
    fn name(&self) -> &'static str {
        match self {
            Detector::ZScore(_) => "zscore",
        }
    }
}

/// Hot per-series state (≤ 256 bytes; labels live apart).
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesDrift {
    baseline: Welford,
    recent: Ewma,
    detector: Detector,
    /// Previous raw value of a counter (NaN until the first one arrives).
    counter_last: f64,
    last_time: u64,
    last_value: f64,
    last_score: f64,
    transition_time: u64,
    sample_count: u64,
    state: SeriesState,
}

impl Default for SeriesDrift {
    fn default() -> Self {
        SeriesDrift {
            baseline: Welford::default(),
            recent: Ewma::default(),
            detector: Detector::ZScore(ZScore::default()),
            counter_last: f64::NAN,
            last_time: 0,
            last_value: 0.0,
            last_score: 0.0,
            transition_time: 0,
            sample_count: 0,
            state: SeriesState::InsufficientData,
        }
    }
}

impl SeriesDrift {
    /// Feeds one point; returns the transition it caused, if any.
    pub fn update(&mut self, s: &Settings, p: &Point) -> Result<Option<Transition>, Skip> {
        let value = self.value_of(p)?;
        if self.sample_count == 0 {
            self.transition_time = p.time_unix_nano;
        }
        self.sample_count += 1;
        self.last_time = p.time_unix_nano;
        self.last_value = value;
        self.recent.add(value, 2.0 / (f64::from(s.recent_span) + 1.0));

        if self.state == SeriesState::InsufficientData {
            self.baseline.add(value);
            if self.baseline.count() >= s.warmup {
                self.state = SeriesState::Stable;
                self.transition_time = p.time_unix_nano;
            }
            return Ok(None);
        }
        let z = self.baseline.z(value);
        self.last_score = z;
        let Detector::ZScore(d) = &mut self.detector;
        let t = d.update(&s.zscore, z, p.time_unix_nano);
        if let Some(t) = t {
            self.state = match t {
                Transition::Start { .. } => SeriesState::DriftDetected,
                Transition::End { .. } => SeriesState::Stable,
            };
            self.transition_time = p.time_unix_nano;
        }
        Ok(t)
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
                // A counter that went down was reset: everything since counts.
                let increase = if p.value >= self.counter_last {
                    p.value - self.counter_last
                } else {
                    p.value
                };
                self.counter_last = p.value;
                Ok(increase / seconds)
            }
        }
    }

    /// The event for a transition that just fired.
    pub fn event(&self, id: SeriesId, labels: &Arc<SeriesLabels>, t: Transition, s: &Settings) -> DriftEvent {
        let (kind, severity, reason, onset, violations) = match t {
            Transition::Start {
                severity,
                onset,
                violations,
            } => (EventKind::DriftStart, Some(severity), None, onset, Some(violations)),
            Transition::End { reason, onset } => (EventKind::DriftEnd, None, Some(reason), onset, None),
        };
        let mut scores = BTreeMap::from([("z".to_string(), self.last_score)]);
        if let Some(v) = violations {
            scores.insert("violations".to_string(), f64::from(v));
        }
        DriftEvent {
            id: DriftEvent::id_for(id, kind, self.last_time),
            kind,
            series_id: id,
            series: labels.clone(),
            timestamp: self.last_time,
            onset,
            detector: self.detector.name().to_string(),
            severity,
            reason,
            value: self.last_value,
            scores,
            baseline: self.baseline.stats(),
            recent: self.recent.stats(s.recent_span),
            acknowledged: false,
        }
    }

    /// A read-only copy for pull exporters.
    pub fn snapshot(&self, id: SeriesId, labels: &Arc<SeriesLabels>) -> SeriesSnapshot {
        SeriesSnapshot {
            id,
            labels: labels.clone(),
            state: self.state,
            transition_time: self.transition_time,
            sample_count: self.sample_count,
            last_time: self.last_time,
            last_value: self.last_value,
            last_score: self.last_score,
            baseline: (self.state != SeriesState::InsufficientData).then(|| self.baseline.stats()),
            detector: self.detector.name(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::config::ZScoreConfig;
    use driftd_core::Severity;

    fn settings() -> Settings {
        Settings {
            warmup: 100,
            zscore: ZScoreParams::from(&ZScoreConfig::default()),
            recent_span: 20,
        }
    }

    fn point(t: u64, value: f64, kind: ValueKind) -> Point {
        Point {
            series: SeriesId(1),
            time_unix_nano: t,
            value,
            kind,
            origin: 0,
        }
    }

    #[test]
    fn per_series_state_fits_the_budget() {
        assert!(
            std::mem::size_of::<SeriesDrift>() <= 256,
            "{}",
            std::mem::size_of::<SeriesDrift>()
        );
    }

    #[test]
    fn learns_then_judges_then_detects_a_step() {
        let s = settings();
        let mut d = SeriesDrift::default();
        let noise = |i: u64| if i.is_multiple_of(2) { 1.0 } else { -1.0 };
        for i in 0..100 {
            assert_eq!(d.update(&s, &point(i, 10.0 + noise(i), ValueKind::Gauge)), Ok(None));
        }
        assert_eq!(d.state, SeriesState::Stable);
        assert_eq!(d.transition_time, 99);
        let mut fired = None;
        for i in 100..110 {
            if let Some(t) = d.update(&s, &point(i, 20.0, ValueKind::Gauge)).unwrap() {
                fired = Some((i, t));
                break;
            }
        }
        let (at, t) = fired.expect("step detected");
        assert_eq!(at, 104);
        assert!(matches!(
            t,
            Transition::Start {
                severity: Severity::Severe,
                onset: 100,
                ..
            }
        ));
        let e = d.event(SeriesId(1), &Arc::new(SeriesLabels::new("m", vec![])), t, &s);
        assert_eq!((e.kind, e.timestamp, e.onset), (EventKind::DriftStart, 104, 100));
        assert!((e.baseline.mean - 10.0).abs() < 1e-9 && e.baseline.samples == 100);
        assert!(
            e.recent.mean > 12.0,
            "recent statistics follow the step: {:?}",
            e.recent
        );
        assert_eq!(d.snapshot(SeriesId(1), &e.series).state, SeriesState::DriftDetected);
    }

    #[test]
    fn counters_become_per_second_rates_and_survive_resets() {
        let s = settings();
        let mut d = SeriesDrift::default();
        let sec = 1_000_000_000;
        assert_eq!(
            d.update(&s, &point(sec, 100.0, ValueKind::CumulativeCounter)),
            Err(Skip::CounterStart)
        );
        d.update(&s, &point(3 * sec, 120.0, ValueKind::CumulativeCounter))
            .unwrap();
        assert_eq!(d.last_value, 10.0);
        d.update(&s, &point(4 * sec, 5.0, ValueKind::CumulativeCounter))
            .unwrap();
        assert_eq!(d.last_value, 5.0, "a reset counts the new total as the increase");
        assert_eq!(
            d.update(&s, &point(4 * sec, 9.0, ValueKind::CumulativeCounter)),
            Err(Skip::OutOfOrder)
        );
    }

    #[test]
    fn out_of_order_gauge_points_are_skipped() {
        let s = settings();
        let mut d = SeriesDrift::default();
        d.update(&s, &point(10, 1.0, ValueKind::Gauge)).unwrap();
        assert_eq!(d.update(&s, &point(9, 1.0, ValueKind::Gauge)), Err(Skip::OutOfOrder));
        assert_eq!(d.sample_count, 1);
    }
}
