//! Windowed mean shift and spread ratio against the baseline: over an exponentially
//! weighted window of about `window` samples (24 bytes instead of a ring of values),
//! the mean of z is the mean shift in baseline standard deviations and the spread of z
//! is the ratio std_window / std_baseline. Drift after `enter` consecutive violating
//! samples; over after `exit` consecutive normal ones.

use super::{positive, Calm, Sample, Transition};
use crate::drift::stats::Ewma;
use driftd_core::config::FieldError;
use driftd_core::Severity;
use serde::{Deserialize, Serialize};
use std::num::NonZeroU32;

/// `type: rolling` parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RollingConfig {
    /// Window span in samples.
    #[serde(default = "RollingConfig::default_window")]
    pub window: NonZeroU32,
    /// Violation: |mean_window - mean_baseline| / std_baseline above this.
    #[serde(default = "RollingConfig::default_mean_shift")]
    pub mean_shift: f64,
    /// Violation: std_window / std_baseline above this (or below its inverse).
    #[serde(default = "RollingConfig::default_std_ratio")]
    pub std_ratio: f64,
    /// Consecutive violating samples to enter drift.
    #[serde(default = "RollingConfig::default_enter")]
    pub enter: NonZeroU32,
    /// Consecutive normal samples to leave drift.
    #[serde(default = "RollingConfig::default_exit")]
    pub exit: NonZeroU32,
}

impl RollingConfig {
    fn default_window() -> NonZeroU32 {
        NonZeroU32::new(30).expect("non-zero")
    }
    fn default_mean_shift() -> f64 {
        1.0
    }
    fn default_std_ratio() -> f64 {
        2.0
    }
    fn default_enter() -> NonZeroU32 {
        NonZeroU32::new(5).expect("non-zero")
    }
    fn default_exit() -> NonZeroU32 {
        NonZeroU32::new(30).expect("non-zero")
    }

    pub(super) fn validate(&self, at: &str) -> Vec<FieldError> {
        let mut errors = Vec::new();
        positive(at, "mean_shift", self.mean_shift, &mut errors);
        if !(self.std_ratio.is_finite() && self.std_ratio > 1.0) {
            errors.push(FieldError::new(
                format!("{at}.std_ratio"),
                format!("must be a number above 1, got {}", self.std_ratio),
            ));
        }
        errors
    }

    fn alpha(&self) -> f64 {
        2.0 / (f64::from(self.window.get()) + 1.0)
    }
}

impl Default for RollingConfig {
    fn default() -> Self {
        RollingConfig {
            window: Self::default_window(),
            mean_shift: Self::default_mean_shift(),
            std_ratio: Self::default_std_ratio(),
            enter: Self::default_enter(),
            exit: Self::default_exit(),
        }
    }
}

/// Per-series rolling-window state.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Rolling {
    window: Ewma,
    seen: u32,
    violations: Calm,
    calm: Calm,
}

impl Rolling {
    /// Feeds one sample.
    pub fn update(&mut self, c: &RollingConfig, s: &Sample) -> Option<Transition> {
        self.window.add(s.z.clamp(-10.0, 10.0), c.alpha());
        self.seen = self.seen.saturating_add(1);
        // The window means little until it has seen about a window's worth.
        if self.seen < c.window.get() {
            return None;
        }
        let w = self.window.stats(c.window.get());
        let ratio = w.stddev;
        let violating = w.mean.abs() > c.mean_shift || ratio > c.std_ratio || ratio < 1.0 / c.std_ratio;
        if self.calm.drifting() {
            let onset = self.calm.update(!violating, s.time, c.exit.get())?;
            *self = Rolling::default();
            return Some(Transition::End { onset });
        }
        let onset = self.violations.update(violating, s.time, c.enter.get())?;
        let severity = if w.mean.abs() > 3.0 * c.mean_shift {
            Severity::Severe
        } else {
            Severity::Moderate
        };
        self.calm.start();
        Some(Transition::Start { severity, onset })
    }

    pub(super) fn scores(&self, put: &mut dyn FnMut(&str, f64)) {
        let w = self.window.stats(u32::MAX);
        put("window_mean_shift", w.mean);
        put("window_std_ratio", w.stddev);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_variance_increase_is_found_and_its_end_too() {
        let c = RollingConfig::default();
        let mut d = Rolling::default();
        let mut out = Vec::new();
        for t in 0..400u64 {
            // Alternating ±1 has spread 1; ±3 has spread 3 (ratio 3 > 2).
            let amp = if (100..200).contains(&t) { 3.0 } else { 1.0 };
            let z = if t % 2 == 0 { amp } else { -amp };
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
                out.push((t, tr));
            }
        }
        assert_eq!(out.len(), 2, "{out:?}");
        assert!(
            matches!(out[0], (t, Transition::Start { .. }) if (100..120).contains(&t)),
            "{out:?}"
        );
        assert!(
            matches!(out[1], (t, Transition::End { .. }) if (200..280).contains(&t)),
            "{out:?}"
        );
    }
}
