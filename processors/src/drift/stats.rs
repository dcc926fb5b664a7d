//! Summary statistics of stretches of samples: exact (Welford) and exponentially
//! weighted (the "recent" figures events report).

use driftd_core::Stats;

/// `change` as a percentage of `level`'s magnitude, when that is a finite number (a
/// level of zero, or so near it that the ratio overflows, has no percentage).
pub fn percent_of(change: f64, level: f64) -> Option<f64> {
    Some(100.0 * change / level.abs()).filter(|p| p.is_finite())
}

/// `x` as an `f32`, held within the `f32` range: a value past ±3.4e38 (possible below
/// the ±1e100 input bound) becomes ±3.4e38, not an infinity that would spread through
/// the statistics or that JSON could not carry. NaN stays NaN.
pub fn narrow(x: f64) -> f32 {
    x.clamp(-f64::from(f32::MAX), f64::from(f32::MAX)) as f32
}

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

#[cfg(test)]
mod tests {
    use super::percent_of;

    #[test]
    fn a_percentage_exists_only_where_it_is_a_number() {
        assert_eq!(percent_of(5.0, -20.0), Some(25.0));
        assert_eq!(percent_of(5.0, 0.0), None);
        assert_eq!(percent_of(4e43, 1.3e-310), None, "overflows: no percentage");
    }
}
