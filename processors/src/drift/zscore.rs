//! The z-score rule set: SEVERE after k consecutive |z| > 3, MODERATE when m of the
//! last w samples have |z| > 2.5, recovery after r consecutive |z| <= 2. Pure: no I/O,
//! no clock, time comes from the data.

use super::config::ZScoreConfig;
use driftd_core::{EndReason, Severity};

/// Parameters resolved once per processor, so per-series state stays small.
#[derive(Copy, Clone, Debug)]
pub struct ZScoreParams {
    severe_z: f64,
    severe_count: u32,
    moderate_z: f64,
    moderate_count: u32,
    window_mask: u64,
    recovery_z: f64,
    recovery_count: u32,
}

impl From<&ZScoreConfig> for ZScoreParams {
    fn from(c: &ZScoreConfig) -> Self {
        let w = c.moderate_window.get().min(64);
        ZScoreParams {
            severe_z: c.severe_z,
            severe_count: c.severe_count.get(),
            moderate_z: c.moderate_z,
            moderate_count: c.moderate_count.get(),
            window_mask: if w == 64 { u64::MAX } else { (1u64 << w) - 1 },
            recovery_z: c.recovery_z,
            recovery_count: c.recovery_count.get(),
        }
    }
}

/// A change of state the detector decided on.
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum Transition {
    /// Drift began; `onset` is the event time the evidence started.
    Start {
        /// How strong.
        severity: Severity,
        /// When the change likely began.
        onset: u64,
        /// Consecutive large deviations, or deviations in the window.
        violations: u32,
    },
    /// Drift ended.
    End {
        /// Why.
        reason: EndReason,
        /// When the series returned to normal.
        onset: u64,
    },
}

/// Per-series state of the rule set: 40 bytes.
#[derive(Copy, Clone, Debug, Default, PartialEq)]
pub struct ZScore {
    /// Last w samples, newest in bit 0: 1 where |z| > moderate_z.
    window: u64,
    /// Event time when the window last went from empty to non-empty.
    window_onset: u64,
    /// Event time of the first sample of the current run (severe or recovery).
    run_onset: u64,
    /// Length of the current run of |z| > severe_z (stable) or |z| <= recovery_z (drifting).
    run: u32,
    drifting: bool,
}

impl ZScore {
    /// Feeds one standardised value; returns a transition when one fires.
    pub fn update(&mut self, p: &ZScoreParams, z: f64, time: u64) -> Option<Transition> {
        let a = z.abs();
        if self.drifting {
            return self.update_drifting(p, a, time);
        }
        if a > p.severe_z {
            if self.run == 0 {
                self.run_onset = time;
            }
            self.run += 1;
        } else {
            self.run = 0;
        }
        let flagged = a > p.moderate_z;
        if flagged && self.window == 0 {
            self.window_onset = time;
        }
        self.window = ((self.window << 1) | u64::from(flagged)) & p.window_mask;

        let start = if self.run >= p.severe_count {
            Some(Transition::Start {
                severity: Severity::Severe,
                onset: self.run_onset,
                violations: self.run,
            })
        } else if self.window.count_ones() >= p.moderate_count {
            Some(Transition::Start {
                severity: Severity::Moderate,
                onset: self.window_onset,
                violations: self.window.count_ones(),
            })
        } else {
            None
        };
        if start.is_some() {
            *self = ZScore {
                drifting: true,
                ..ZScore::default()
            };
        }
        start
    }

    fn update_drifting(&mut self, p: &ZScoreParams, a: f64, time: u64) -> Option<Transition> {
        if a > p.recovery_z {
            self.run = 0;
            return None;
        }
        if self.run == 0 {
            self.run_onset = time;
        }
        self.run += 1;
        if self.run < p.recovery_count {
            return None;
        }
        let onset = self.run_onset;
        *self = ZScore::default();
        Some(Transition::End {
            reason: EndReason::Recovered,
            onset,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> ZScoreParams {
        ZScoreParams::from(&ZScoreConfig::default())
    }

    fn feed(d: &mut ZScore, zs: &[f64], t0: u64) -> Vec<(u64, Transition)> {
        let p = params();
        zs.iter()
            .enumerate()
            .filter_map(|(i, z)| d.update(&p, *z, t0 + i as u64).map(|t| (t0 + i as u64, t)))
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
                    onset: 101,
                    violations: 5
                }
            )]
        );
        assert!(d.drifting);
    }

    #[test]
    fn an_interrupted_run_is_not_severe() {
        let mut d = ZScore::default();
        assert!(feed(&mut d, &[3.5, 3.5, 3.5, 3.5, 0.0, 3.5, 3.5, 3.5, 3.5], 0).is_empty());
    }

    #[test]
    fn ten_of_twenty_moderate_deviations_are_moderate() {
        let mut d = ZScore::default();
        // Alternating 2.6 and 0: the tenth flag lands on sample 19.
        let zs: Vec<f64> = (0..20).map(|i| if i % 2 == 1 { 2.6 } else { 0.0 }).collect();
        let out = feed(&mut d, &zs, 0);
        assert_eq!(
            out,
            [(
                19,
                Transition::Start {
                    severity: Severity::Moderate,
                    onset: 1,
                    violations: 10
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
        let out = feed(&mut d, &zs, 10);
        assert_eq!(
            out,
            [(
                109,
                Transition::End {
                    reason: EndReason::Recovered,
                    onset: 60
                }
            )]
        );
        assert!(!d.drifting);
    }

    #[test]
    fn state_is_small() {
        assert!(std::mem::size_of::<ZScore>() <= 40);
    }
}
