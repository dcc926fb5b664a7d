//! Page-Hinkley test on standardised values, both directions: the cumulative sum of
//! `r - delta` (with forgetting `alpha`) against its running minimum; drift when the
//! gap passes `lambda`. The onset is where that minimum was reached.

use super::{positive, Calm, Sample, Transition};
use driftd_core::config::FieldError;
use driftd_core::Severity;
use serde::{Deserialize, Serialize};
use std::num::NonZeroU32;

/// `type: page_hinkley` parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageHinkleyConfig {
    /// Sensitivity: the smallest shift (in standard deviations) that accumulates.
    #[serde(default = "PageHinkleyConfig::default_delta")]
    pub delta: f64,
    /// Evidence needed before alarming.
    #[serde(default = "PageHinkleyConfig::default_lambda")]
    pub lambda: f64,
    /// Forgetting factor in (0, 1]: 1 remembers everything.
    #[serde(default = "PageHinkleyConfig::default_alpha")]
    pub alpha: f64,
    /// Drift ends after this many consecutive samples with both gaps below `lambda / 2`.
    #[serde(default = "PageHinkleyConfig::default_recovery")]
    pub recovery_count: NonZeroU32,
}

impl PageHinkleyConfig {
    fn default_delta() -> f64 {
        0.5
    }
    fn default_lambda() -> f64 {
        10.0
    }
    fn default_alpha() -> f64 {
        0.9999
    }
    fn default_recovery() -> NonZeroU32 {
        NonZeroU32::new(30).expect("non-zero")
    }

    pub(super) fn validate(&self, at: &str) -> Vec<FieldError> {
        let mut errors = Vec::new();
        positive(at, "delta", self.delta, &mut errors);
        positive(at, "lambda", self.lambda, &mut errors);
        if !(self.alpha > 0.0 && self.alpha <= 1.0) {
            errors.push(FieldError::new(
                format!("{at}.alpha"),
                format!("must be in (0, 1], got {}", self.alpha),
            ));
        }
        errors
    }
}

impl Default for PageHinkleyConfig {
    fn default() -> Self {
        PageHinkleyConfig {
            delta: Self::default_delta(),
            lambda: Self::default_lambda(),
            alpha: Self::default_alpha(),
            recovery_count: Self::default_recovery(),
        }
    }
}

/// One direction of the test.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
struct Direction {
    sum: f64,
    min: f64,
    min_time: u64,
}

impl Direction {
    fn add(&mut self, x: f64, delta: f64, alpha: f64, time: u64) -> f64 {
        self.sum = alpha * self.sum + x - delta;
        if self.sum <= self.min {
            self.min = self.sum;
            self.min_time = time;
        }
        self.sum - self.min
    }
}

/// Per-series Page-Hinkley state.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PageHinkley {
    up: Direction,
    down: Direction,
    gap: f64,
    calm: Calm,
}

impl PageHinkley {
    /// Feeds one sample.
    pub fn update(&mut self, c: &PageHinkleyConfig, s: &Sample) -> Option<Transition> {
        let r = s.r.clamp(-4.0, 4.0);
        let up = self.up.add(r, c.delta, c.alpha, s.time);
        let down = self.down.add(-r, c.delta, c.alpha, s.time);
        self.gap = up.max(down);
        if self.calm.drifting() {
            // While drifting the gaps are capped at lambda (by raising the minimum), so
            // they fall below lambda/2 soon after the shift ends however long it lasted.
            for d in [&mut self.up, &mut self.down] {
                d.min = d.min.max(d.sum - c.lambda);
            }
            let quiet = self.gap < c.lambda / 2.0;
            let onset = self.calm.update(quiet, s.time, c.recovery_count.get())?;
            *self = PageHinkley::default();
            return Some(Transition::End { onset });
        }
        if self.gap <= c.lambda {
            return None;
        }
        let onset = if up >= down {
            self.up.min_time
        } else {
            self.down.min_time
        };
        *self = PageHinkley::default();
        self.calm.start();
        Some(Transition::Start {
            severity: Severity::Moderate,
            onset,
        })
    }

    pub(super) fn scores(&self, put: &mut dyn FnMut(&str, f64)) {
        put("page_hinkley", self.gap);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_downward_shift_is_found_with_the_minimum_as_onset() {
        let c = PageHinkleyConfig {
            alpha: 1.0,
            ..PageHinkleyConfig::default()
        };
        let mut d = PageHinkley::default();
        let mut first = None;
        for t in 0..300u64 {
            let z = if t >= 100 { -1.5 } else { 0.0 };
            if let Some(tr) = d.update(
                &c,
                &Sample {
                    time: t,
                    z,
                    r: z,
                    spread: 0.0,
                    clip: 4.0,
                    wariness: 0.0,
                },
            ) {
                first.get_or_insert((t, tr));
            }
        }
        let (at, tr) = first.expect("detected");
        assert_eq!(at, 110);
        assert_eq!(
            tr,
            Transition::Start {
                severity: Severity::Moderate,
                onset: 99
            }
        );
    }
}
