//! The one series lifecycle, shared by scalar series (`series.rs`) and histogram
//! series (`histogram/series.rs`):
//!
//! ```text
//! INSUFFICIENT_DATA ──learned──▶ STABLE ──drift starts──▶ DRIFT_DETECTED
//!                                  ▲                            │
//!                                  └── recovered, or rebaselined┘
//!                                      (lasted past accept_after)
//! ```
//!
//! A series forgotten after `series_ttl` without points is expired by the table
//! (`expiry.rs`); one whose histogram layout changes starts over
//! ([`Lifecycle::restart`]). What is judged (a value against its baseline, a
//! distribution against its own) and when the detector says a drift starts or ends is
//! each series' own; when the state changes, and how the change is reported, is here.

use super::detectors::Transition;
use driftd_core::event::Stats;
use driftd_core::view::{SeriesSnapshot, SeriesState};
use driftd_core::{DriftEvent, EndReason, EventKind, SeriesId, SeriesLabels, Severity};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Where a series is in its lifecycle, since when, and how many samples it has had.
/// Serialized inside checkpoints: the field order is part of their format. Packed:
/// its 17 bytes then share a word with the series' smallest fields (the scalar series
/// state fits in its 256 bytes); its fields are only ever copied, never borrowed.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[repr(C, packed)]
pub struct Lifecycle {
    transition_time: u64,
    sample_count: u64,
    state: SeriesState,
}

/// A change of state, as its event reports it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Change {
    kind: EventKind,
    severity: Option<Severity>,
    reason: Option<EndReason>,
    /// When the change began (a start) or the drift began or ended (an end).
    onset: u64,
}

/// What an event says about the series besides its change.
pub struct Evidence {
    /// `zscore`, `cusum`, ..., `histogram`.
    pub detector: &'static str,
    /// The newest value (for histograms, the mean of the newest point).
    pub value: f64,
    pub scores: BTreeMap<String, f64>,
    pub baseline: Stats,
    pub recent: Stats,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Lifecycle {
            transition_time: 0,
            sample_count: 0,
            state: SeriesState::InsufficientData,
        }
    }
}

impl Lifecycle {
    pub fn state(&self) -> SeriesState {
        self.state
    }

    /// Samples judged or learned from since the series appeared.
    pub fn sample_count(&self) -> u64 {
        self.sample_count
    }

    pub fn drifting(&self) -> bool {
        self.state == SeriesState::DriftDetected
    }

    /// Counts a sample at `time`; the first one starts the learning.
    pub fn sample(&mut self, time: u64) {
        if self.sample_count == 0 {
            self.transition_time = time;
        }
        self.sample_count += 1;
    }

    /// The baseline is learned: STABLE from `time`.
    pub fn learned(&mut self, time: u64) {
        self.enter(SeriesState::Stable, time);
    }

    /// Applies what the detector decided at `time`: a start makes the series drift, an
    /// end makes it stable again (recovered).
    pub fn apply(&mut self, t: Transition, time: u64) -> Change {
        match t {
            Transition::Start { severity, onset } => {
                self.enter(SeriesState::DriftDetected, time);
                Change {
                    kind: EventKind::DriftStart,
                    severity: Some(severity),
                    reason: None,
                    onset,
                }
            }
            Transition::End { onset } => {
                self.enter(SeriesState::Stable, time);
                Change {
                    kind: EventKind::DriftEnd,
                    severity: None,
                    reason: Some(EndReason::Recovered),
                    onset,
                }
            }
        }
    }

    /// Whether a drift has lasted `accept_after` (ns; 0 = never) by `time`.
    pub fn accept_due(&self, accept_after: u64, time: u64) -> bool {
        self.drifting() && accept_after != 0 && time.saturating_sub(self.transition_time) >= accept_after
    }

    /// Ends a drift by making it the new normal: STABLE from `time`, the end reported
    /// `rebaselined` with the drift's start as its onset.
    pub fn rebaseline(&mut self, time: u64) -> Change {
        let change = self.end(EndReason::Rebaselined);
        self.enter(SeriesState::Stable, time);
        change
    }

    /// The end, for `reason`, of the drift in progress (its start as the onset); the
    /// state is left as it is.
    pub fn end(&self, reason: EndReason) -> Change {
        Change {
            kind: EventKind::DriftEnd,
            severity: None,
            reason: Some(reason),
            onset: self.transition_time,
        }
    }

    /// Starts learning again from `time` (keeping the sample count); a drift in
    /// progress ends `rebaselined`.
    pub fn restart(&mut self, time: u64) -> Option<Change> {
        let ended = self.drifting().then(|| self.rebaseline(time));
        self.enter(SeriesState::InsufficientData, time);
        ended
    }

    fn enter(&mut self, state: SeriesState, time: u64) {
        self.state = state;
        self.transition_time = time;
    }

    /// A read-only copy for pull exporters; `baseline` is only asked for once learned.
    pub fn snapshot(
        &self,
        id: SeriesId,
        labels: &Arc<SeriesLabels>,
        last: (u64, f64, f64),
        baseline: impl FnOnce() -> Stats,
        detector: &'static str,
    ) -> SeriesSnapshot {
        let (last_time, last_value, last_score) = last;
        SeriesSnapshot {
            id,
            labels: labels.clone(),
            state: self.state,
            transition_time: self.transition_time,
            sample_count: self.sample_count,
            last_time,
            last_value,
            last_score,
            baseline: (self.state != SeriesState::InsufficientData).then(baseline),
            detector,
        }
    }
}

impl Change {
    pub fn kind(&self) -> EventKind {
        self.kind
    }

    /// The event of this change of series `id` at `time`.
    pub fn event(self, id: SeriesId, labels: &Arc<SeriesLabels>, time: u64, evidence: Evidence) -> DriftEvent {
        DriftEvent {
            id: DriftEvent::id_for(id, self.kind, time),
            kind: self.kind,
            series_id: id,
            series: labels.clone(),
            timestamp: time,
            onset: self.onset,
            detector: evidence.detector.to_string(),
            severity: self.severity,
            reason: self.reason,
            value: evidence.value,
            scores: evidence.scores,
            baseline: evidence.baseline,
            recent: evidence.recent,
            acknowledged: false,
            incident: None,
            snapshot: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_drifts_recovers_and_rebaselines() {
        let mut l = Lifecycle::default();
        l.sample(5);
        l.sample(6);
        assert_eq!(
            (l.state(), l.sample_count(), l.transition_time),
            (SeriesState::InsufficientData, 2, 5)
        );
        l.learned(10);
        assert_eq!(l.state(), SeriesState::Stable);
        let start = l.apply(
            Transition::Start {
                severity: Severity::Severe,
                onset: 18,
            },
            20,
        );
        assert_eq!(
            (start.kind, start.onset, l.state()),
            (EventKind::DriftStart, 18, SeriesState::DriftDetected)
        );
        assert!(!l.accept_due(100, 119) && l.accept_due(100, 120) && !l.accept_due(0, u64::MAX));
        let end = l.rebaseline(120);
        assert_eq!(
            (end.reason, end.onset, l.state()),
            (Some(EndReason::Rebaselined), 20, SeriesState::Stable)
        );
        assert!(!l.accept_due(100, 500), "only a drift is accepted");
        l.apply(
            Transition::Start {
                severity: Severity::Moderate,
                onset: 200,
            },
            200,
        );
        let restarted = l.restart(300).expect("a drift in progress ends");
        assert_eq!(
            (restarted.reason, l.state(), l.sample_count()),
            (Some(EndReason::Rebaselined), SeriesState::InsufficientData, 2)
        );
        assert_eq!(l.restart(301), None, "nothing to end while learning");
    }
}
