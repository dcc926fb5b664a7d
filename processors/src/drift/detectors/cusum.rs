//! Two-sided CUSUM on standardised values: `S+ = max(0, S+ + r - k)`,
//! `S- = max(0, S- - r - k)`, drift when either passes `h`. The onset estimate is where
//! the alarming side last left zero: the classic change-point estimate of CUSUM.

use super::{positive, Calm, Sample, Side, Transition};
use driftd_core::config::FieldError;
use driftd_core::Severity;
use serde::{Deserialize, Serialize};
use std::num::NonZeroU32;

/// `type: cusum` parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CusumConfig {
    /// Allowance, in standard deviations: half the smallest shift worth finding.
    #[serde(default = "CusumConfig::default_k")]
    pub k: f64,
    /// Decision threshold: larger means fewer false alarms and slower detection.
    #[serde(default = "CusumConfig::default_h")]
    pub h: f64,
    /// Drift ends after this many consecutive samples with both sides below `h / 2`.
    #[serde(default = "CusumConfig::default_recovery")]
    pub recovery_count: NonZeroU32,
}

impl CusumConfig {
    fn default_k() -> f64 {
        0.5
    }
    fn default_h() -> f64 {
        10.0
    }
    fn default_recovery() -> NonZeroU32 {
        NonZeroU32::new(30).expect("non-zero")
    }

    pub(super) fn validate(&self, at: &str) -> Vec<FieldError> {
        let mut errors = Vec::new();
        positive(at, "k", self.k, &mut errors);
        positive(at, "h", self.h, &mut errors);
        errors
    }
}

impl Default for CusumConfig {
    fn default() -> Self {
        CusumConfig {
            k: Self::default_k(),
            h: Self::default_h(),
            recovery_count: Self::default_recovery(),
        }
    }
}

/// Per-series CUSUM state.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Cusum {
    up: Side,
    down: Side,
    calm: Calm,
}

impl Cusum {
    /// Feeds one sample.
    pub fn update(&mut self, c: &CusumConfig, s: &Sample) -> Option<Transition> {
        // Clipped so one wild value cannot carry the statistic past h on its own.
        let r = s.r.clamp(-4.0, 4.0);
        self.up.add(r, c.k, s.time);
        self.down.add(-r, c.k, s.time);
        if self.calm.drifting() {
            // While drifting the statistics are capped at h, so they fall below h/2
            // soon after the shift ends however long it lasted.
            self.up.s = self.up.s.min(c.h);
            self.down.s = self.down.s.min(c.h);
            let quiet = self.up.s < c.h / 2.0 && self.down.s < c.h / 2.0;
            let onset = self.calm.update(quiet, s.time, c.recovery_count.get())?;
            *self = Cusum::default();
            return Some(Transition::End { onset });
        }
        let side = if self.up.s > c.h {
            self.up
        } else if self.down.s > c.h {
            self.down
        } else {
            return None;
        };
        self.calm.start();
        Some(Transition::Start {
            severity: Severity::Moderate,
            onset: side.left_zero,
        })
    }

    /// Whether either statistic is past half the threshold.
    pub(super) fn suspicious(&self, c: &CusumConfig) -> bool {
        self.up.s.max(self.down.s) > c.h / 2.0
    }

    /// Whether the upward and the downward statistic are off zero.
    pub(super) fn excursions(&self) -> (bool, bool) {
        (self.up.s > 0.0, self.down.s > 0.0)
    }

    pub(super) fn scores(&self, put: &mut dyn FnMut(&str, f64)) {
        put("cusum_up", self.up.s);
        put("cusum_down", self.down.s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shift_is_found_with_its_onset_and_ends_when_it_goes_away() {
        let c = CusumConfig::default();
        let mut d = Cusum::default();
        let mut out = Vec::new();
        let z = |t: u64| match t {
            100..200 => 1.5,
            _ => 0.0,
        };
        for t in 0..400 {
            if let Some(tr) = d.update(
                &c,
                &Sample {
                    time: t,
                    z: z(t),
                    r: z(t),
                    spread: 0.0,
                    clip: 4.0,
                    wariness: 0.0,
                },
            ) {
                out.push((t, tr));
            }
        }
        // (1.5 - 0.5) per sample passes h = 10 on the 11th shifted sample; after the
        // shift the capped statistic falls by k = 0.5 per sample below h/2 = 5 at 210,
        // and 30 calm samples later the drift ends.
        assert_eq!(
            out,
            [
                (
                    110,
                    Transition::Start {
                        severity: Severity::Moderate,
                        onset: 100
                    }
                ),
                (239, Transition::End { onset: 210 })
            ]
        );
    }
}
