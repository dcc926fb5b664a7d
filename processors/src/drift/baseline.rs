//! What normal looks like: mean and spread learned from the data.

use driftd_core::Stats;

/// Mean and variance by Welford's method: one pass, numerically stable, 24 bytes.
#[derive(Copy, Clone, Debug, Default, PartialEq)]
pub struct Welford {
    n: u64,
    mean: f64,
    m2: f64,
}

impl Welford {
    /// Adds a sample.
    pub fn add(&mut self, x: f64) {
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
    }

    /// Samples added.
    pub fn count(&self) -> u64 {
        self.n
    }

    /// Sample standard deviation (0 with fewer than two samples).
    pub fn stddev(&self) -> f64 {
        if self.n < 2 {
            0.0
        } else {
            (self.m2 / (self.n - 1) as f64).sqrt()
        }
    }

    /// The figures as event statistics.
    pub fn stats(&self) -> Stats {
        Stats {
            mean: self.mean,
            stddev: self.stddev(),
            samples: self.n,
        }
    }

    /// How many baseline standard deviations `x` is from the mean.
    ///
    /// A flat baseline has no spread; the floor keeps z finite and still makes any
    /// real change of a flat series stand out.
    pub fn z(&self, x: f64) -> f64 {
        let floor = 1e-9 * self.mean.abs().max(1.0);
        (x - self.mean) / self.stddev().max(floor)
    }
}

/// Exponentially weighted mean and variance: the "recent" figures events report.
#[derive(Copy, Clone, Debug, Default, PartialEq)]
pub struct Ewma {
    mean: f64,
    var: f64,
    seen: u32,
}

impl Ewma {
    /// Adds a sample with weight `alpha` (2 / (span + 1)).
    pub fn add(&mut self, x: f64, alpha: f64) {
        if self.seen == 0 {
            self.mean = x;
        } else {
            let d = x - self.mean;
            self.mean += alpha * d;
            self.var = (1.0 - alpha) * (self.var + alpha * d * d);
        }
        self.seen = self.seen.saturating_add(1);
    }

    /// The figures, counting at most `span` samples.
    pub fn stats(&self, span: u32) -> Stats {
        Stats {
            mean: self.mean,
            stddev: self.var.sqrt(),
            samples: u64::from(self.seen.min(span)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn welford_matches_the_textbook_figures() {
        let mut w = Welford::default();
        for x in [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0] {
            w.add(x);
        }
        assert_eq!(w.mean, 5.0);
        assert!((w.stddev() - 2.138_089_935).abs() < 1e-9);
        assert!((w.z(9.0) - 4.0 / 2.138_089_935).abs() < 1e-9);
    }

    #[test]
    fn a_flat_baseline_gives_finite_but_huge_z_for_any_change() {
        let mut w = Welford::default();
        (0..10).for_each(|_| w.add(5.0));
        assert_eq!(w.z(5.0), 0.0);
        assert!(w.z(5.1).is_finite() && w.z(5.1) > 1e6);
    }

    #[test]
    fn ewma_follows_a_level_change() {
        let mut e = Ewma::default();
        (0..100).for_each(|_| e.add(1.0, 0.1));
        (0..100).for_each(|_| e.add(3.0, 0.1));
        let s = e.stats(20);
        assert!((s.mean - 3.0).abs() < 1e-3, "{s:?}");
        assert_eq!(s.samples, 20);
    }
}
