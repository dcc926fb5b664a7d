//! The classic z-score rule set: SEVERE after k consecutive |z| > 3, MODERATE when m
//! of the last w samples have |z| > 2.5, recovery after r consecutive |z| <= 2.

use super::{positive, Calm, Sample, Transition};
use driftd_core::config::FieldError;
use driftd_core::Severity;
use serde::{Deserialize, Serialize};
use std::num::NonZeroU32;

/// `type: zscore` parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZScoreConfig {
    /// SEVERE: |z| above this ...
    #[serde(default = "ZScoreConfig::default_severe_z")]
    pub severe_z: f64,
    /// ... for this many consecutive samples.
    #[serde(default = "ZScoreConfig::default_severe_count")]
    pub severe_count: NonZeroU32,
    /// MODERATE: |z| above this ...
    #[serde(default = "ZScoreConfig::default_moderate_z")]
    pub moderate_z: f64,
    /// ... in at least this many ...
    #[serde(default = "ZScoreConfig::default_moderate_count")]
    pub moderate_count: NonZeroU32,
    /// ... of the last this many samples (at most 64).
    #[serde(default = "ZScoreConfig::default_moderate_window")]
    pub moderate_window: NonZeroU32,
    /// Recovery: |z| at or below this ...
    #[serde(default = "ZScoreConfig::default_recovery_z")]
    pub recovery_z: f64,
    /// ... for this many consecutive samples.
    #[serde(default = "ZScoreConfig::default_recovery_count")]
    pub recovery_count: NonZeroU32,
}

impl ZScoreConfig {
    fn default_severe_z() -> f64 {
        3.0
    }
    fn default_severe_count() -> NonZeroU32 {
        NonZeroU32::new(5).expect("non-zero")
    }
    fn default_moderate_z() -> f64 {
        2.5
    }
    fn default_moderate_count() -> NonZeroU32 {
        NonZeroU32::new(10).expect("non-zero")
    }
    fn default_moderate_window() -> NonZeroU32 {
        NonZeroU32::new(20).expect("non-zero")
    }
    fn default_recovery_z() -> f64 {
        2.0
    }
    fn default_recovery_count() -> NonZeroU32 {
        NonZeroU32::new(50).expect("non-zero")
    }

    pub(super) fn validate(&self, at: &str) -> Vec<FieldError> {
        let mut errors = Vec::new();
        positive(at, "severe_z", self.severe_z, &mut errors);
        positive(at, "moderate_z", self.moderate_z, &mut errors);
        positive(at, "recovery_z", self.recovery_z, &mut errors);
        if self.moderate_window.get() > 64 {
            errors.push(FieldError::new(
                format!("{at}.moderate_window"),
                format!("must be at most 64, got {}", self.moderate_window),
            ));
        }
        if self.moderate_count > self.moderate_window {
            errors.push(FieldError::new(
                format!("{at}.moderate_count"),
                format!(
                    "must not exceed moderate_window ({}), got {}",
                    self.moderate_window, self.moderate_count
                ),
            ));
        }
        if self.recovery_z > self.moderate_z {
            errors.push(FieldError::new(
                format!("{at}.recovery_z"),
                format!(
                    "must not exceed moderate_z ({}), or a drifting series could never recover; got {}",
                    self.moderate_z, self.recovery_z
                ),
            ));
        }
        errors
    }

    fn window_mask(&self) -> u64 {
        match self.moderate_window.get() {
            w if w >= 64 => u64::MAX,
            w => (1u64 << w) - 1,
        }
    }
}

impl Default for ZScoreConfig {
    fn default() -> Self {
        ZScoreConfig {
            severe_z: Self::default_severe_z(),
            severe_count: Self::default_severe_count(),
            moderate_z: Self::default_moderate_z(),
            moderate_count: Self::default_moderate_count(),
            moderate_window: Self::default_moderate_window(),
            recovery_z: Self::default_recovery_z(),
            recovery_count: Self::default_recovery_count(),
        }
    }
}

/// Per-series state of the rule set.
#[derive(Copy, Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ZScore {
    /// Last w samples, newest in bit 0: 1 where |z| > moderate_z.
    window: u64,
    /// Event time when the window last went from empty to non-empty.
    window_onset: u64,
    /// Event time of the first sample of the current run of |z| > severe_z.
    run_onset: u64,
    run: u32,
    last_z: f64,
    calm: Calm,
}

impl ZScore {
    /// Feeds one sample.
    pub fn update(&mut self, c: &ZScoreConfig, s: &Sample) -> Option<Transition> {
        self.last_z = s.z;
        let a = s.z.abs();
        if self.calm.drifting() {
            let onset = self.calm.update(a <= c.recovery_z, s.time, c.recovery_count.get())?;
            *self = ZScore::default();
            return Some(Transition::End { onset });
        }
        if a > c.severe_z {
            if self.run == 0 {
                self.run_onset = s.time;
            }
            self.run += 1;
        } else {
            self.run = 0;
        }
        let flagged = a > c.moderate_z;
        if flagged && self.window == 0 {
            self.window_onset = s.time;
        }
        self.window = ((self.window << 1) | u64::from(flagged)) & c.window_mask();
        let start = if self.run >= c.severe_count.get() {
            Transition::Start {
                severity: Severity::Severe,
                onset: self.run_onset,
            }
        } else if self.window.count_ones() >= c.moderate_count.get() {
            Transition::Start {
                severity: Severity::Moderate,
                onset: self.window_onset,
            }
        } else {
            return None;
        };
        self.calm.start();
        Some(start)
    }

    pub(super) fn scores(&self, put: &mut dyn FnMut(&str, f64)) {
        put("z", self.last_z);
        put("consecutive", f64::from(self.run));
        put("window_violations", f64::from(self.window.count_ones()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(d: &mut ZScore, zs: &[f64], t0: u64) -> Vec<(u64, Transition)> {
        let c = ZScoreConfig::default();
        zs.iter()
            .enumerate()
            .filter_map(|(i, z)| {
                let s = Sample {
                    time: t0 + i as u64,
                    z: *z,
                    r: *z,
                    spread: 0.0,
                    clip: 4.0,
                    wariness: 0.0,
                };
                d.update(&c, &s).map(|t| (s.time, t))
            })
            .collect()
    }

    #[test]
    fn five_consecutive_large_deviations_are_severe_with_onset_at_the_first() {
        let mut d = ZScore::default();
        let out = feed(&mut d, &[0.1, 3.5, -4.0, 3.1, 5.0, 3.2, 0.0], 100);
        assert_eq!(
            out,
            [(
                105,
                Transition::Start {
                    severity: Severity::Severe,
                    onset: 101
                }
            )]
        );
    }

    #[test]
    fn an_interrupted_run_is_not_severe() {
        let mut d = ZScore::default();
        assert!(feed(&mut d, &[3.5, 3.5, 3.5, 3.5, 0.0, 3.5, 3.5, 3.5, 3.5], 0).is_empty());
    }

    #[test]
    fn ten_of_twenty_moderate_deviations_are_moderate() {
        let mut d = ZScore::default();
        let zs: Vec<f64> = (0..20).map(|i| if i % 2 == 1 { 2.6 } else { 0.0 }).collect();
        assert_eq!(
            feed(&mut d, &zs, 0),
            [(
                19,
                Transition::Start {
                    severity: Severity::Moderate,
                    onset: 1
                }
            )]
        );
    }

    #[test]
    fn flags_older_than_the_window_do_not_count() {
        let mut d = ZScore::default();
        let mut zs = vec![2.6; 9];
        zs.extend([0.0; 20]);
        zs.extend([2.6; 9]);
        assert!(feed(&mut d, &zs, 0).is_empty());
    }

    #[test]
    fn recovery_needs_fifty_consecutive_calm_samples() {
        let mut d = ZScore::default();
        feed(&mut d, &[4.0; 5], 0);
        let mut zs = vec![1.0; 49];
        zs.push(2.5); // breaks the run
        zs.extend([1.9; 50]);
        assert_eq!(feed(&mut d, &zs, 10), [(109, Transition::End { onset: 60 })]);
    }
}
