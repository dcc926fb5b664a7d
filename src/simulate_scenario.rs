//! What `driftd simulate` sends: per-series values from a seed, and the truth about
//! which series drift, how and from which sample. Pure: no clock, no I/O.
//!
//! Each series has a mean (50–250 ms) and a spread (4–8 % of the mean) drawn from the
//! seed, and Gaussian noise around them. Drifts start at sample `drift_at`:
//! - spike: a step of `magnitude` σ for [`SPIKE_SAMPLES`] samples, then back;
//! - creep: a linear ramp reaching `magnitude` σ after [`CREEP_SAMPLES`] samples, then
//!   holding;
//! - variance: the spread grows threefold.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Normal};
use serde::Serialize;

/// How long a spike lasts, in samples.
pub const SPIKE_SAMPLES: u64 = 30;
/// How long a creep takes to reach its full size, in samples.
pub const CREEP_SAMPLES: u64 = 100;
/// How much the spread grows in a variance drift.
pub const VARIANCE_FACTOR: f64 = 3.0;

/// The `--scenario` choices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scenario {
    /// Every series stays normal.
    Normal,
    /// Every series steps up, then back.
    Spike,
    /// Every series ramps up.
    Creep,
    /// Every series' spread grows.
    Variance,
    /// A fraction of the series drift (spike, creep, variance in turn), the rest stay normal.
    Mixed,
}

/// What happens to one series.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Drift {
    /// Nothing.
    None,
    /// A step up and back.
    Spike,
    /// A ramp.
    Creep,
    /// A wider spread.
    Variance,
}

/// The plan for one series.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesPlan {
    /// `sim-<i>`: the service name, so `/v1/health/sim-<i>` reports it.
    pub service: String,
    /// Normal mean.
    pub mean: f64,
    /// Normal standard deviation.
    pub sigma: f64,
    /// What drift it gets.
    pub drift: Drift,
}

/// Every series' plan.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// By series index.
    pub series: Vec<SeriesPlan>,
    /// The sample index drifts start at.
    pub drift_at: u64,
    /// Drift size in σ (spike and creep).
    pub magnitude: f64,
    seed: u64,
}

impl Plan {
    /// Draws the plan from `seed`.
    pub fn new(
        scenario: Scenario,
        series: usize,
        drift_fraction: f64,
        drift_at: u64,
        magnitude: f64,
        seed: u64,
    ) -> Plan {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut plans: Vec<SeriesPlan> = (0..series)
            .map(|i| {
                let mean = rng.random_range(50.0..250.0);
                SeriesPlan {
                    service: format!("sim-{i}"),
                    mean,
                    sigma: mean * rng.random_range(0.04..0.08),
                    drift: Drift::None,
                }
            })
            .collect();
        let all = |d: Drift, plans: &mut Vec<SeriesPlan>| plans.iter_mut().for_each(|p| p.drift = d);
        match scenario {
            Scenario::Normal => {}
            Scenario::Spike => all(Drift::Spike, &mut plans),
            Scenario::Creep => all(Drift::Creep, &mut plans),
            Scenario::Variance => all(Drift::Variance, &mut plans),
            Scenario::Mixed => {
                let count = ((series as f64 * drift_fraction.clamp(0.0, 1.0)).round() as usize).min(series);
                // A seeded partial shuffle picks which series drift.
                let mut order: Vec<usize> = (0..series).collect();
                for i in 0..count {
                    let j = rng.random_range(i..series);
                    order.swap(i, j);
                }
                let mut chosen = order[..count].to_vec();
                chosen.sort_unstable();
                for (n, i) in chosen.into_iter().enumerate() {
                    plans[i].drift = [Drift::Spike, Drift::Creep, Drift::Variance][n % 3];
                }
            }
        }
        Plan {
            series: plans,
            drift_at,
            magnitude,
            seed,
        }
    }

    /// The value generator of series `i`: the same values whatever else is generated.
    pub fn generator(&self, i: usize) -> SeriesGen {
        let p = self.series[i].clone();
        SeriesGen {
            rng: StdRng::seed_from_u64(self.seed ^ (i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)),
            noise: Normal::new(0.0, 1.0).expect("unit normal"),
            drift_at: self.drift_at,
            magnitude: self.magnitude,
            plan: p,
        }
    }
}

/// Values of one series, sample after sample.
pub struct SeriesGen {
    /// The series' plan.
    pub plan: SeriesPlan,
    rng: StdRng,
    noise: Normal<f64>,
    drift_at: u64,
    magnitude: f64,
}

impl SeriesGen {
    /// The value of sample `k` (call with k = 0, 1, 2, ...); never negative.
    pub fn value(&mut self, k: u64) -> f64 {
        let z: f64 = self.noise.sample(&mut self.rng);
        let p = &self.plan;
        let since = k.checked_sub(self.drift_at);
        let (shift, spread) = match (p.drift, since) {
            (Drift::Spike, Some(s)) if s < SPIKE_SAMPLES => (self.magnitude, 1.0),
            (Drift::Creep, Some(s)) => (self.magnitude * (s as f64 / CREEP_SAMPLES as f64).min(1.0), 1.0),
            (Drift::Variance, Some(_)) => (0.0, VARIANCE_FACTOR),
            _ => (0.0, 1.0),
        };
        (p.mean + p.sigma * (shift + spread * z)).max(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mean_sd(v: &[f64]) -> (f64, f64) {
        let m = v.iter().sum::<f64>() / v.len() as f64;
        let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len() as f64;
        (m, var.sqrt())
    }

    #[test]
    fn mixed_drifts_the_stated_fraction_in_turn_and_is_reproducible() {
        let plan = Plan::new(Scenario::Mixed, 20, 0.25, 150, 8.0, 42);
        let drifting: Vec<Drift> = plan
            .series
            .iter()
            .map(|s| s.drift)
            .filter(|d| *d != Drift::None)
            .collect();
        assert_eq!(
            drifting,
            [Drift::Spike, Drift::Creep, Drift::Variance, Drift::Spike, Drift::Creep]
        );
        assert_eq!(plan, Plan::new(Scenario::Mixed, 20, 0.25, 150, 8.0, 42));
        assert_ne!(plan, Plan::new(Scenario::Mixed, 20, 0.25, 150, 8.0, 43));
        assert!(Plan::new(Scenario::Normal, 5, 1.0, 0, 8.0, 1)
            .series
            .iter()
            .all(|s| s.drift == Drift::None));
    }

    #[test]
    fn each_drift_has_its_shape() {
        let mut plan = Plan::new(Scenario::Normal, 1, 0.0, 1000, 8.0, 7);
        let base = plan.series[0].clone();
        let run = |plan: &Plan, from: u64, to: u64| {
            let mut g = plan.generator(0);
            (0..to).map(|k| g.value(k)).skip(from as usize).collect::<Vec<_>>()
        };
        let (m, sd) = mean_sd(&run(&plan, 0, 1000));
        assert!((m - base.mean).abs() < 0.2 * base.sigma && (sd / base.sigma - 1.0).abs() < 0.1);

        plan.series[0].drift = Drift::Spike;
        let (m, _) = mean_sd(&run(&plan, 1000, 1000 + SPIKE_SAMPLES));
        assert!(((m - base.mean) / base.sigma - 8.0).abs() < 1.0, "{m}");
        let (m, _) = mean_sd(&run(&plan, 1000 + SPIKE_SAMPLES, 2000));
        assert!((m - base.mean).abs() < 0.3 * base.sigma, "back after the spike");

        plan.series[0].drift = Drift::Creep;
        let (m, _) = mean_sd(&run(&plan, 1000 + CREEP_SAMPLES, 2000));
        assert!(((m - base.mean) / base.sigma - 8.0).abs() < 0.5, "{m}");

        plan.series[0].drift = Drift::Variance;
        let (_, sd) = mean_sd(&run(&plan, 1000, 3000));
        assert!((sd / base.sigma - VARIANCE_FACTOR).abs() < 0.3, "{sd}");
    }

    #[test]
    fn the_same_seed_gives_the_same_values() {
        let plan = Plan::new(Scenario::Mixed, 3, 0.5, 10, 8.0, 9);
        let take = |i| {
            let mut g = plan.generator(i);
            (0..50).map(|k| g.value(k)).collect::<Vec<_>>()
        };
        assert_eq!(take(1), take(1));
        assert_ne!(take(1), take(2));
    }
}
