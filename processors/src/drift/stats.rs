//! Summary statistics of stretches of samples: exact (Welford) and exponentially
//! weighted (the "recent" figures events report).

use driftd_core::Stats;

/// Mean and spread of a stretch of samples (Welford): the "recent" or "since the drift
/// began" figures.
#[derive(Copy, Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Welford {
    n: u64,
    mean: f64,
    m2: f64,
}

impl Welford {
    /// Samples added.
    pub fn seen(&self) -> u64 {
        self.n
    }

    /// The mean of the samples (0 for none).
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// Adds a sample.
    pub fn add(&mut self, x: f64) {
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
    }

    /// Adds every sample `other` summarises (Chan et al.'s pairwise update).
    pub fn merge(&mut self, other: &Welford) {
        if other.n == 0 {
            return;
        }
        let n = self.n + other.n;
        let d = other.mean - self.mean;
        let (a, b) = (self.n as f64, other.n as f64);
        self.mean += d * b / n as f64;
        self.m2 += other.m2 + d * d * a * b / n as f64;
        self.n = n;
    }

    /// The figures.
    pub fn stats(&self) -> Stats {
        Stats {
            mean: self.mean,
            stddev: if self.n < 2 {
                0.0
            } else {
                (self.m2 / (self.n - 1) as f64).sqrt()
            },
            samples: self.n,
        }
    }
}

/// Exponentially weighted mean and variance over about `span` samples.
#[derive(Copy, Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
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
