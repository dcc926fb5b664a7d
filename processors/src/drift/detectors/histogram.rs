//! `histogram`: distribution drift of OTLP histograms. The recent bucket distribution
//! (exponentially weighted over `recent_half_life` points) is compared with the
//! baseline's by the population stability index (PSI). A point is alarming when the
//! PSI is at least `enter_psi` and also clearly more than sampling noise would give:
//! under no change, `n · PSI` is about chi-square with (buckets − 1) degrees of
//! freedom, `n` the effective number of observations (recent and baseline combined),
//! so small samples need a larger PSI. `enter_count` alarming points in a row start a
//! drift (severe at `severe_psi`); `recovery_count` points in a row below `exit_psi`
//! end it. The onset is where the PSI last rose above `exit_psi`.

use super::{positive, Calm, Transition};
use driftd_core::config::FieldError;
use driftd_core::Severity;
use serde::{Deserialize, Serialize};
use std::num::NonZeroU32;

/// `type: histogram` parameters. The PSI thresholds are the classic rule of thumb:
/// below 0.1 no change, 0.1–0.25 moderate, above 0.25 significant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistogramConfig {
    /// Half-life, in points, of the recent distribution that is compared with the baseline.
    #[serde(default = "HistogramConfig::default_recent_half_life")]
    pub recent_half_life: NonZeroU32,
    /// Fewest (effective) observations in the recent distribution for it to be judged.
    #[serde(default = "HistogramConfig::default_min_count")]
    pub min_count: u32,
    /// PSI from which a point is alarming.
    #[serde(default = "HistogramConfig::default_enter_psi")]
    pub enter_psi: f64,
    /// PSI from which a drift is severe.
    #[serde(default = "HistogramConfig::default_severe_psi")]
    pub severe_psi: f64,
    /// PSI below which a point is calm.
    #[serde(default = "HistogramConfig::default_exit_psi")]
    pub exit_psi: f64,
    /// How far, in standard normal deviates, the PSI must lie above what sampling noise
    /// gives for a point to be alarming.
    #[serde(default = "HistogramConfig::default_significance_z")]
    pub significance_z: f64,
    /// Alarming points in a row that start a drift.
    #[serde(default = "HistogramConfig::default_enter_count")]
    pub enter_count: NonZeroU32,
    /// Calm points in a row that end a drift.
    #[serde(default = "HistogramConfig::default_recovery")]
    pub recovery_count: NonZeroU32,
}

impl HistogramConfig {
    fn default_recent_half_life() -> NonZeroU32 {
        NonZeroU32::new(5).expect("non-zero")
    }
    fn default_min_count() -> u32 {
        100
    }
    fn default_enter_psi() -> f64 {
        0.1
    }
    fn default_severe_psi() -> f64 {
        0.25
    }
    fn default_exit_psi() -> f64 {
        0.05
    }
    fn default_significance_z() -> f64 {
        4.0
    }
    fn default_enter_count() -> NonZeroU32 {
        NonZeroU32::new(3).expect("non-zero")
    }
    fn default_recovery() -> NonZeroU32 {
        NonZeroU32::new(10).expect("non-zero")
    }

    pub(super) fn validate(&self, at: &str) -> Vec<FieldError> {
        let mut errors = Vec::new();
        positive(at, "enter_psi", self.enter_psi, &mut errors);
        positive(at, "exit_psi", self.exit_psi, &mut errors);
        if !self.significance_z.is_finite() {
            errors.push(FieldError::new(
                format!("{at}.significance_z"),
                "must be a finite number",
            ));
        }
        if self.exit_psi >= self.enter_psi {
            errors.push(FieldError::new(
                format!("{at}.exit_psi"),
                format!("must be below enter_psi ({}), got {}", self.enter_psi, self.exit_psi),
            ));
        }
        if self.severe_psi.is_nan() || self.severe_psi < self.enter_psi {
            errors.push(FieldError::new(
                format!("{at}.severe_psi"),
                format!(
                    "must be at least enter_psi ({}), got {}",
                    self.enter_psi, self.severe_psi
                ),
            ));
        }
        errors
    }
}

impl Default for HistogramConfig {
    fn default() -> Self {
        HistogramConfig {
            recent_half_life: Self::default_recent_half_life(),
            min_count: Self::default_min_count(),
            enter_psi: Self::default_enter_psi(),
            severe_psi: Self::default_severe_psi(),
            exit_psi: Self::default_exit_psi(),
            significance_z: Self::default_significance_z(),
            enter_count: Self::default_enter_count(),
            recovery_count: Self::default_recovery(),
        }
    }
}

/// One judged point: the PSI of the recent distribution and whether it is more than
/// sampling noise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Judged {
    /// Event time.
    pub time: u64,
    /// Population stability index against the baseline.
    pub psi: f64,
    /// Whether the PSI is clearly above sampling noise.
    pub significant: bool,
}

/// The enter/exit rule of one histogram series.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct HistogramDetector {
    /// Alarming points in a row.
    run: u32,
    /// Whether the PSI is above `exit_psi`, and since when.
    raised: Option<u64>,
    calm: Calm,
}

impl HistogramDetector {
    /// Feeds one judged point.
    pub fn update(&mut self, c: &HistogramConfig, j: &Judged) -> Option<Transition> {
        if j.psi < c.exit_psi {
            self.raised = None;
        } else if self.raised.is_none() {
            self.raised = Some(j.time);
        }
        if self.calm.drifting() {
            let onset = self.calm.update(j.psi < c.exit_psi, j.time, c.recovery_count.get())?;
            *self = HistogramDetector::default();
            return Some(Transition::End { onset });
        }
        let alarming = j.psi >= c.enter_psi && j.significant;
        if !alarming {
            self.run = 0;
            return None;
        }
        self.run += 1;
        if self.run < c.enter_count.get() {
            return None;
        }
        self.calm.start();
        Some(Transition::Start {
            severity: if j.psi >= c.severe_psi {
                Severity::Severe
            } else {
                Severity::Moderate
            },
            onset: self.raised.unwrap_or(j.time),
        })
    }

    /// Whether in a drift.
    pub fn drifting(&self) -> bool {
        self.calm.drifting()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(psi: impl Fn(u64) -> f64, significant: bool, points: u64) -> Vec<(u64, Transition)> {
        let c = HistogramConfig::default();
        let mut d = HistogramDetector::default();
        (0..points)
            .filter_map(|t| {
                let j = Judged {
                    time: t,
                    psi: psi(t),
                    significant,
                };
                d.update(&c, &j).map(|tr| (t, tr))
            })
            .collect()
    }

    #[test]
    fn enters_after_three_alarming_points_and_leaves_after_ten_calm_ones() {
        let psi = |t: u64| match t {
            10 => 0.07,
            11..=12 => 0.15,
            13..=30 => 0.3,
            _ => 0.01,
        };
        assert_eq!(
            run(psi, true, 100),
            [
                (
                    13,
                    Transition::Start {
                        severity: Severity::Severe,
                        onset: 10
                    }
                ),
                (40, Transition::End { onset: 31 })
            ]
        );
    }

    #[test]
    fn a_large_psi_that_sampling_noise_explains_raises_nothing() {
        assert_eq!(run(|_| 0.5, false, 100), []);
    }

    #[test]
    fn an_interrupted_run_starts_again() {
        let psi = |t: u64| if t % 3 == 2 { 0.08 } else { 0.2 };
        assert_eq!(run(psi, true, 100), []);
    }

    #[test]
    fn inconsistent_thresholds_are_reported() {
        let c = HistogramConfig {
            exit_psi: 0.2,
            severe_psi: 0.05,
            ..HistogramConfig::default()
        };
        let paths: Vec<_> = c.validate("d").into_iter().map(|e| e.path).collect();
        assert_eq!(paths, ["d.exit_psi", "d.severe_psi"]);
    }
}
