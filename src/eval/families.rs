//! The synthetic series `driftd eval` judges detectors on: in-control families of the
//! kinds telemetry has (noise of several shapes, counts, latencies, trends, a daily
//! cycle) and changes injected into Gaussian noise at a known sample. Pure: a series
//! is a function of its seed.

use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, Normal, Poisson, StudentT};

/// Seconds between samples: one a minute, so a day is 1,440 samples.
pub const STEP_SECONDS: u64 = 60;

/// The level and noise of the Gaussian-based families: 100 ± 10 (10% of the level,
/// as latencies and rates vary), so a change of 1 σ is one that matters.
pub const LEVEL: f64 = 100.0;
pub const SIGMA: f64 = 10.0;

/// Samples in a day.
const DAY: f64 = 86_400.0 / STEP_SECONDS as f64;

/// A kind of series with nothing wrong in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Family {
    /// 100 + 10 N(0, 1).
    Gaussian,
    /// Student t with 3 degrees of freedom, scaled to σ = 10: heavy tails.
    StudentT3,
    /// AR(1) with φ = 0.7 and marginal σ = 10: neighbouring samples alike.
    Ar1,
    /// Poisson counts with mean 20.
    Poisson,
    /// Log-normal latencies: median 100, log-σ 0.3 (skewed to the right).
    LogNormal,
    /// Gaussian noise on a steady climb of 0.02 a sample (the level doubles in 5,000).
    Trend,
    /// Gaussian noise on a daily sinusoid of amplitude 3 σ.
    DailySeasonal,
}

impl Family {
    /// Every family, in table order.
    pub const ALL: [Family; 7] = [
        Family::Gaussian,
        Family::StudentT3,
        Family::Ar1,
        Family::Poisson,
        Family::LogNormal,
        Family::Trend,
        Family::DailySeasonal,
    ];

    /// How the family is named in tables.
    pub fn name(self) -> &'static str {
        match self {
            Family::Gaussian => "iid Gaussian",
            Family::StudentT3 => "Student t (3 dof)",
            Family::Ar1 => "AR(1), φ = 0.7",
            Family::Poisson => "Poisson counts (mean 20)",
            Family::LogNormal => "log-normal latencies",
            Family::Trend => "linear trend",
            Family::DailySeasonal => "daily seasonal",
        }
    }
}

/// A change injected into Gaussian noise from sample `at` on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Change {
    /// The level steps by this many σ.
    Step(f64),
    /// The level starts climbing by this many σ a sample.
    Slope(f64),
    /// The variance is multiplied by this (the level stays).
    Variance(f64),
}

impl Change {
    /// The changes the detection table reports.
    pub const ALL: [Change; 6] = [
        Change::Step(0.5),
        Change::Step(1.0),
        Change::Step(2.0),
        Change::Step(3.0),
        Change::Slope(0.02),
        Change::Variance(3.0),
    ];

    /// How the change is named in tables.
    pub fn name(self) -> String {
        match self {
            Change::Step(s) => format!("step of {s} σ"),
            Change::Slope(s) => format!("slope of {s} σ a sample"),
            Change::Variance(v) => format!("variance × {v}"),
        }
    }

    /// `value` with the change applied, `since` samples after it began.
    fn apply(self, value: f64, since: u64) -> f64 {
        match self {
            Change::Step(s) => value + s * SIGMA,
            Change::Slope(s) => value + s * SIGMA * since as f64,
            Change::Variance(v) => LEVEL + (value - LEVEL) * v.sqrt(),
        }
    }
}

/// One synthetic series: its noise, and a change from sample `at` (if any).
pub struct Series {
    rng: StdRng,
    family: Family,
    change: Option<(Change, u64)>,
    ar: f64,
    i: u64,
}

impl Series {
    /// Series number `index` of `family`, with `change` injected at sample `at`.
    pub fn new(family: Family, index: u64, change: Option<(Change, u64)>) -> Self {
        // Distinct, fixed seeds per family and series.
        let seed = (family as u64) << 40 ^ index;
        Series {
            rng: StdRng::seed_from_u64(seed),
            family,
            change,
            ar: 0.0,
            i: 0,
        }
    }

    /// The next value.
    pub fn next_value(&mut self) -> f64 {
        let i = self.i as f64;
        self.i += 1;
        let n: f64 = Normal::new(0.0, 1.0).expect("valid").sample(&mut self.rng);
        let base = match self.family {
            Family::Gaussian => LEVEL + SIGMA * n,
            Family::StudentT3 => {
                let t: f64 = StudentT::new(3.0).expect("valid").sample(&mut self.rng);
                LEVEL + SIGMA * t / 3f64.sqrt()
            }
            Family::Ar1 => {
                self.ar = 0.7 * self.ar + (1.0 - 0.49f64).sqrt() * n;
                LEVEL + SIGMA * self.ar
            }
            Family::Poisson => Poisson::new(20.0).expect("valid").sample(&mut self.rng),
            Family::LogNormal => LEVEL * (0.3 * n).exp(),
            Family::Trend => LEVEL + 0.02 * i + SIGMA * n,
            Family::DailySeasonal => LEVEL + 3.0 * SIGMA * (std::f64::consts::TAU * i / DAY).sin() + SIGMA * n,
        };
        match self.change {
            Some((change, at)) if self.i > at => change.apply(base, self.i - 1 - at),
            _ => base,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moments(family: Family) -> (f64, f64) {
        let mut s = Series::new(family, 1, None);
        let xs: Vec<f64> = (0..20_000).map(|_| s.next_value()).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
        (mean, var.sqrt())
    }

    #[test]
    fn the_noise_families_have_their_stated_level_and_spread() {
        for family in [Family::Gaussian, Family::StudentT3, Family::Ar1] {
            let (mean, sd) = moments(family);
            assert!((mean - LEVEL).abs() < 1.0, "{family:?} mean {mean}");
            assert!((sd - SIGMA).abs() < 1.0, "{family:?} sd {sd}");
        }
        let (mean, sd) = moments(Family::Poisson);
        assert!(
            (mean - 20.0).abs() < 0.2 && (sd - 20f64.sqrt()).abs() < 0.2,
            "{mean} {sd}"
        );
    }

    #[test]
    fn a_change_starts_at_its_sample() {
        let mut plain = Series::new(Family::Gaussian, 3, None);
        let mut stepped = Series::new(Family::Gaussian, 3, Some((Change::Step(2.0), 5)));
        let d: Vec<f64> = (0..8).map(|_| stepped.next_value() - plain.next_value()).collect();
        assert_eq!(d, [0.0, 0.0, 0.0, 0.0, 0.0, 20.0, 20.0, 20.0]);
        let mut sloped = Series::new(Family::Gaussian, 3, Some((Change::Slope(0.1), 2)));
        let mut plain = Series::new(Family::Gaussian, 3, None);
        let d: Vec<f64> = (0..5).map(|_| sloped.next_value() - plain.next_value()).collect();
        assert_eq!(d, [0.0, 0.0, 0.0, 1.0, 2.0]);
        let mut wider = Series::new(Family::Gaussian, 3, Some((Change::Variance(4.0), 2)));
        let mut plain = Series::new(Family::Gaussian, 3, None);
        let ratio: Vec<f64> = (0..4)
            .map(|_| (wider.next_value() - LEVEL) / (plain.next_value() - LEVEL))
            .collect();
        assert_eq!(ratio, [1.0, 1.0, 2.0, 2.0]);
    }
}
