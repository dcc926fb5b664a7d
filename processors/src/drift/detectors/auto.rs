//! `auto`, the zero-configuration default. Three CUSUMs on prewhitened standardised
//! values clipped at ±4 for Gaussian tails and less for heavier ones (the baseline's
//! `clip`), so one wild value is never enough on its own and a heavy-tailed series'
//! ordinary outliers do not add up to an alarm:
//!
//! - small shifts: k = 0.5 (tuned for a 1 σ shift), threshold `small_h`;
//! - large shifts: k = 1.5 (tuned for 3 σ), threshold `large_h`: fast, and SEVERE;
//! - spread: a CUSUM (k = 0.5) of the clipped absolute deviation `min(|r|, clip)`,
//!   standardised by its own mean and spread learned with the baseline (tripled
//!   variance moves it by about 1); threshold `variance_h`. Absolute rather than
//!   squared deviations: the square's long right tail let two or three outliers pass
//!   for a wider spread, the largest source of false alarms until 2026-12-07.
//!
//! Whichever crosses first starts the drift; the onset is where it last left zero.
//! While drifting the statistics are capped at their thresholds and the drift ends
//! after `recovery_count` samples with all of them below half.
//!
//! All three thresholds are raised by the series' wariness (`Sample::wariness`): a
//! series that keeps raising drifts that end by themselves is asked for more evidence.
//! While a young baseline (its first 400 samples) sees any statistic past half its
//! threshold, it does not learn ([`Auto::suspicious`]), so a change is not absorbed
//! into normal before it is found.
//!
//! The thresholds come from `driftd eval` and the synthetic suite (tests/quality):
//! about 0.1 false alarms per 100,000 samples of Gaussian noise, young baseline
//! included, and up to 0.3 for heavy-tailed, skewed or autocorrelated noise, while a
//! 1 σ step is still found within about 30 samples (see QUALITY.md).

use super::{positive, Calm, Sample, Side, Transition};
use driftd_core::config::FieldError;
use driftd_core::Severity;
use serde::{Deserialize, Serialize};
use std::num::NonZeroU32;

const SMALL_K: f64 = 0.5;
const LARGE_K: f64 = 1.5;
const SPREAD_K: f64 = 0.5;
/// A deviation this large (in standard deviations) makes a drift SEVERE.
const SEVERE_R: f64 = 4.0;
/// The fraction of a threshold past which a statistic holds a young baseline's learning.
const HOLD: f64 = 0.5;

/// `type: auto` parameters. The defaults are the tuned values; change them only to
/// trade false alarms for speed across all series at once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoConfig {
    /// Threshold of the small-shift CUSUM.
    #[serde(default = "AutoConfig::default_small_h")]
    pub small_h: f64,
    /// Threshold of the large-shift CUSUM.
    #[serde(default = "AutoConfig::default_large_h")]
    pub large_h: f64,
    /// Threshold of the spread CUSUM.
    #[serde(default = "AutoConfig::default_variance_h")]
    pub variance_h: f64,
    /// Calm samples (all statistics below half their threshold) that end a drift.
    #[serde(default = "AutoConfig::default_recovery")]
    pub recovery_count: NonZeroU32,
}

impl AutoConfig {
    fn default_small_h() -> f64 {
        13.0
    }
    fn default_large_h() -> f64 {
        6.0
    }
    fn default_variance_h() -> f64 {
        20.0
    }
    fn default_recovery() -> NonZeroU32 {
        NonZeroU32::new(30).expect("non-zero")
    }

    pub(super) fn validate(&self, at: &str) -> Vec<FieldError> {
        let mut errors = Vec::new();
        positive(at, "small_h", self.small_h, &mut errors);
        positive(at, "large_h", self.large_h, &mut errors);
        positive(at, "variance_h", self.variance_h, &mut errors);
        errors
    }
}

impl Default for AutoConfig {
    fn default() -> Self {
        AutoConfig {
            small_h: Self::default_small_h(),
            large_h: Self::default_large_h(),
            variance_h: Self::default_variance_h(),
            recovery_count: Self::default_recovery(),
        }
    }
}

/// Per-series state of `auto`.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Auto {
    small: [Side; 2],
    large: [Side; 2],
    spread: Side,
    calm: Calm,
}

impl Auto {
    /// Feeds one sample.
    pub fn update(&mut self, c: &AutoConfig, s: &Sample) -> Option<Transition> {
        let r = s.r.clamp(-s.clip, s.clip);
        for (side, x) in self.small.iter_mut().zip([r, -r]) {
            side.add(x, SMALL_K, s.time);
        }
        for (side, x) in self.large.iter_mut().zip([r, -r]) {
            side.add(x, LARGE_K, s.time);
        }
        self.spread.add(s.spread, SPREAD_K, s.time);

        if self.calm.drifting() {
            let mut quiet = true;
            for (side, h) in self.sides_mut(c, s) {
                side.s = side.s.min(h);
                quiet &= side.s < h / 2.0;
            }
            let onset = self.calm.update(quiet, s.time, c.recovery_count.get())?;
            *self = Auto::default();
            return Some(Transition::End { onset });
        }

        let raise = 1.0 + s.wariness;
        let fired = self.large.iter().any(|d| d.s > c.large_h * raise)
            || self.small.iter().any(|d| d.s > c.small_h * raise)
            || self.spread.s > c.variance_h * raise;
        if !fired {
            return None;
        }
        // The onset is the latest point where a statistic with real evidence (past half
        // its threshold) left zero: one that left zero long before carries old noise.
        let onset = self
            .sides_mut(c, s)
            .into_iter()
            .filter(|(side, h)| side.s > h / 2.0)
            .map(|(side, _)| side.left_zero)
            .max()
            .unwrap_or(s.time);
        // Severity follows the size of the evidence, whichever statistic crossed first:
        // a big step also widens the spread, and may cross that threshold sooner.
        let severity = if s.r.abs() >= SEVERE_R || self.large.iter().any(|d| d.s > c.large_h * raise / 2.0) {
            Severity::Severe
        } else {
            Severity::Moderate
        };
        self.calm.start();
        Some(Transition::Start { severity, onset })
    }

    /// Whether any statistic is past half its (unraised) threshold.
    pub(super) fn suspicious(&self, c: &AutoConfig) -> bool {
        self.small.iter().any(|d| d.s > c.small_h * HOLD)
            || self.large.iter().any(|d| d.s > c.large_h * HOLD)
            || self.spread.s > c.variance_h * HOLD
    }

    /// Whether the small-shift statistics, upward and downward, are off zero.
    pub(super) fn excursions(&self) -> (bool, bool) {
        (self.small[0].s > 0.0, self.small[1].s > 0.0)
    }

    /// Each statistic with its threshold, raised by the series' wariness.
    fn sides_mut(&mut self, c: &AutoConfig, s: &Sample) -> [(&mut Side, f64); 5] {
        let raise = 1.0 + s.wariness;
        let (small_h, large_h, variance_h) = (c.small_h * raise, c.large_h * raise, c.variance_h * raise);
        let [s0, s1] = &mut self.small;
        let [l0, l1] = &mut self.large;
        [
            (s0, small_h),
            (s1, small_h),
            (l0, large_h),
            (l1, large_h),
            (&mut self.spread, variance_h),
        ]
    }

    pub(super) fn scores(&self, put: &mut dyn FnMut(&str, f64)) {
        put("cusum_up", self.small[0].s);
        put("cusum_down", self.small[1].s);
        put("large_up", self.large[0].s);
        put("large_down", self.large[1].s);
        put("spread", self.spread.s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_start(zs: impl Iterator<Item = f64>) -> Option<(u64, Transition)> {
        let c = AutoConfig::default();
        let mut d = Auto::default();
        zs.enumerate().find_map(|(t, z)| {
            let t = t as u64;
            d.update(
                &c,
                &Sample {
                    time: t,
                    z,
                    r: z,
                    spread: 0.0,
                    clip: 4.0,
                    wariness: 0.0,
                },
            )
            .map(|tr| (t, tr))
        })
    }

    #[test]
    fn a_large_step_is_severe_within_a_few_samples() {
        let (at, tr) = first_start((0..100).map(|t| if t >= 50 { 4.0 } else { 0.0 })).unwrap();
        assert!(at <= 53, "{at}");
        assert_eq!(
            tr,
            Transition::Start {
                severity: Severity::Severe,
                onset: 50
            }
        );
    }

    #[test]
    fn a_small_step_is_moderate() {
        let (at, tr) = first_start((0..200).map(|t| if t >= 50 { 1.0 } else { 0.0 })).unwrap();
        assert_eq!(at, 50 + 26, "(1 - 0.5) per sample passes 13 on the 27th shifted sample");
        assert_eq!(
            tr,
            Transition::Start {
                severity: Severity::Moderate,
                onset: 50
            }
        );
    }

    #[test]
    fn a_wider_spread_with_the_same_mean_is_found() {
        let c = AutoConfig::default();
        let mut d = Auto::default();
        let found = (0..300u64).find_map(|t| {
            let spread = if t >= 100 { 2.0 } else { 0.0 };
            d.update(
                &c,
                &Sample {
                    time: t,
                    z: 0.0,
                    r: 0.0,
                    spread,
                    clip: 4.0,
                    wariness: 0.0,
                },
            )
            .map(|tr| (t, tr))
        });
        // (2 - 0.5) per sample passes 20 on the 14th sample.
        assert_eq!(
            found,
            Some((
                113,
                Transition::Start {
                    severity: Severity::Moderate,
                    onset: 100
                }
            ))
        );
    }

    #[test]
    fn single_wild_values_are_not_enough() {
        assert_eq!(
            first_start((0..1000).map(|t| if t % 50 == 0 { 50.0 } else { 0.0 })),
            None
        );
    }
}
