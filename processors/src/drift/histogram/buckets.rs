//! Arithmetic on explicit-bucket histograms: exponentially weighted bucket counts,
//! the distance between two distributions (PSI, Jensen-Shannon) and quantile and mean
//! estimates read from the buckets.
//!
//! Estimates from buckets follow Prometheus' `histogram_quantile`: values are spread
//! evenly inside a bucket, the first bucket starts at 0 when its bound is positive, and
//! anything in the overflow bucket is taken to be the highest finite bound.

use driftd_core::Stats;

/// Probability given to a bucket with no observations, so PSI stays finite.
pub const EMPTY_BUCKET: f64 = 1e-4;

/// Bucket counts as numbers: raw counts of one point, or weighted counts.
pub trait Weight: Copy {
    /// The count as a float.
    fn weight(self) -> f64;
}

impl Weight for u64 {
    fn weight(self) -> f64 {
        self as f64
    }
}

impl Weight for f64 {
    fn weight(self) -> f64 {
        self
    }
}

/// Bucket counts in which each observation's weight decays by a factor per point, with
/// the sums needed for the effective number of observations (Kish).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Distribution {
    counts: Vec<f64>,
    total: f64,
    /// Sum of the squared weights of the observations.
    squares: f64,
}

impl Distribution {
    /// An empty distribution over `buckets` buckets.
    pub fn new(buckets: usize) -> Self {
        Distribution {
            counts: vec![0.0; buckets],
            total: 0.0,
            squares: 0.0,
        }
    }

    /// Multiplies every weight so far by `keep`, then adds `delta` with weight 1.
    pub fn add(&mut self, delta: &[u64], keep: f64) {
        let mut n = 0.0;
        for (c, &d) in self.counts.iter_mut().zip(delta) {
            *c = *c * keep + d as f64;
            n += d as f64;
        }
        self.total = self.total * keep + n;
        self.squares = self.squares * keep * keep + n;
    }

    /// Forgets everything, keeping the bucket count.
    pub fn clear(&mut self) {
        self.counts.iter_mut().for_each(|c| *c = 0.0);
        self.total = 0.0;
        self.squares = 0.0;
    }

    /// Weighted counts per bucket.
    pub fn counts(&self) -> &[f64] {
        &self.counts
    }

    /// How many unweighted observations would estimate the proportions as precisely.
    pub fn effective(&self) -> f64 {
        if self.squares > 0.0 {
            self.total * self.total / self.squares
        } else {
            0.0
        }
    }
}

/// How far a recent distribution is from a baseline one.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Distance {
    /// Population stability index: `Σ (q - p) ln(q / p)`, empty buckets at
    /// [`EMPTY_BUCKET`]. 0.1 is a moderate change, 0.25 a significant one.
    pub psi: f64,
    /// Buckets with observations on either side, less one: the degrees of freedom of
    /// the PSI's chi-square approximation under no change.
    pub freedom: f64,
}

/// The PSI from `baseline` to `recent` (both non-empty, same buckets).
pub fn distance(baseline: &Distribution, recent: &Distribution) -> Distance {
    let (bt, rt) = (baseline.total, recent.total);
    let mut d = Distance::default();
    let mut used = 0u32;
    for (&b, &r) in baseline.counts.iter().zip(&recent.counts) {
        if b <= 0.0 && r <= 0.0 {
            continue;
        }
        used += 1;
        let (pe, qe) = ((b / bt).max(EMPTY_BUCKET), (r / rt).max(EMPTY_BUCKET));
        d.psi += (qe - pe) * (qe / pe).ln();
    }
    d.freedom = f64::from(used.saturating_sub(1).max(1));
    d
}

/// The Jensen-Shannon divergence of two distributions, in bits: 0 for equal ones, 1
/// for disjoint ones. Only events report it, so it is computed only for them.
pub fn jensen_shannon(a: &Distribution, b: &Distribution) -> f64 {
    let mut js = 0.0;
    for (&x, &y) in a.counts.iter().zip(&b.counts) {
        let (p, q) = (x / a.total, y / b.total);
        let m = (p + q) / 2.0;
        js += (entropy_term(p, m) + entropy_term(q, m)) / 2.0;
    }
    js
}

/// `x log2(x / m)`, with `0 log 0 = 0`.
fn entropy_term(x: f64, m: f64) -> f64 {
    if x > 0.0 {
        x * (x / m).log2()
    } else {
        0.0
    }
}

/// The `1 - Φ(z)` quantile of a chi-square distribution with `freedom` degrees of
/// freedom (Wilson–Hilferty: good to a few percent from 1 degree of freedom up).
pub fn chi_square_quantile(freedom: f64, z: f64) -> f64 {
    let a = 2.0 / (9.0 * freedom);
    freedom * (1.0 - a + z * a.sqrt()).max(0.0).powi(3)
}

/// The lower and upper edge of bucket `i`, and the value that stands for it.
fn edges(bounds: &[f64], i: usize) -> (f64, f64) {
    let last = bounds.len();
    if i == last {
        return (bounds[last - 1], bounds[last - 1]);
    }
    let upper = bounds[i];
    let lower = match i {
        0 if upper > 0.0 => 0.0,
        0 => upper,
        _ => bounds[i - 1],
    };
    (lower, upper)
}

/// The `q` quantile (0 < q < 1) by linear interpolation inside its bucket; NaN when
/// there are no observations. `counts` has one more entry than `bounds`.
pub fn quantile<W: Weight>(bounds: &[f64], counts: &[W], q: f64) -> f64 {
    let total: f64 = counts.iter().map(|c| c.weight()).sum();
    if total <= 0.0 || bounds.is_empty() {
        return f64::NAN;
    }
    let rank = q * total;
    let mut below = 0.0;
    for (i, c) in counts.iter().enumerate() {
        let c = c.weight();
        if c > 0.0 && below + c >= rank {
            let (lower, upper) = edges(bounds, i);
            return lower + (upper - lower) * ((rank - below) / c).clamp(0.0, 1.0);
        }
        below += c;
    }
    bounds[bounds.len() - 1]
}

/// Mean and standard deviation with every observation at the middle of its bucket;
/// `samples` is the (rounded) total weight.
pub fn stats<W: Weight>(bounds: &[f64], counts: &[W]) -> Stats {
    let (mut n, mut sum, mut squares) = (0.0, 0.0, 0.0);
    for (i, c) in counts.iter().enumerate().take(bounds.len() + 1) {
        let (lower, upper) = edges(bounds, i);
        let (w, x) = (c.weight(), (lower + upper) / 2.0);
        n += w;
        sum += w * x;
        squares += w * x * x;
    }
    if n <= 0.0 {
        return Stats::default();
    }
    let mean = sum / n;
    Stats {
        mean,
        stddev: (squares / n - mean * mean).max(0.0).sqrt(),
        samples: n.round() as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(counts: &[u64]) -> Distribution {
        let mut d = Distribution::new(counts.len());
        d.add(counts, 1.0);
        d
    }

    #[test]
    fn equal_distributions_are_at_distance_zero_whatever_their_counts() {
        let d = distance(&of(&[10, 20, 30, 40]), &of(&[20, 40, 60, 80]));
        let js = jensen_shannon(&of(&[10, 20, 30, 40]), &of(&[20, 40, 60, 80]));
        assert!(d.psi.abs() < 1e-12 && js.abs() < 1e-12, "{d:?} {js}");
        assert_eq!(d.freedom, 3.0);
    }

    #[test]
    fn psi_and_js_match_hand_computed_values() {
        // p = (0.5, 0.5), q = (0.9, 0.1).
        let d = distance(&of(&[50, 50]), &of(&[90, 10]));
        let js_bits = jensen_shannon(&of(&[50, 50]), &of(&[90, 10]));
        let psi = 0.4 * (0.9f64 / 0.5).ln() - 0.4 * (0.1f64 / 0.5).ln();
        assert!((d.psi - psi).abs() < 1e-12, "{} vs {psi}", d.psi);
        let m = [0.7, 0.3];
        let kl = |x: [f64; 2]| x[0] * (x[0] / m[0]).log2() + x[1] * (x[1] / m[1]).log2();
        let js = (kl([0.5, 0.5]) + kl([0.9, 0.1])) / 2.0;
        assert!((js_bits - js).abs() < 1e-12, "{js_bits} vs {js}");
    }

    #[test]
    fn disjoint_distributions_have_js_one_and_a_finite_psi() {
        let d = distance(&of(&[100, 0, 0]), &of(&[0, 0, 100]));
        assert!((jensen_shannon(&of(&[100, 0, 0]), &of(&[0, 0, 100])) - 1.0).abs() < 1e-12);
        // Both non-empty buckets: (1e-4 - 1) ln(1e-4) twice.
        let expected = 2.0 * (1.0 - EMPTY_BUCKET) * (1.0 / EMPTY_BUCKET).ln();
        assert!((d.psi - expected).abs() < 1e-9, "{d:?}");
        assert_eq!(d.freedom, 1.0);
    }

    #[test]
    fn decayed_weights_give_the_effective_number_of_observations() {
        let mut d = Distribution::new(2);
        d.add(&[100, 0], 0.5);
        assert_eq!(d.effective(), 100.0);
        d.add(&[0, 100], 0.5);
        // Weights 0.5 (100 of them) and 1 (100): (150)² / (25 + 100) = 180.
        assert!((d.effective() - 180.0).abs() < 1e-9);
        assert_eq!(d.counts(), [50.0, 100.0]);
        assert_eq!(d.total, 150.0);
    }

    #[test]
    fn quantiles_interpolate_inside_their_bucket() {
        let bounds = [1.0, 2.0, 4.0];
        // 10 in (0,1], 10 in (1,2], 20 in (2,4], 0 above.
        let counts = [10u64, 10, 20, 0];
        assert_eq!(quantile(&bounds, &counts, 0.25), 1.0);
        assert_eq!(quantile(&bounds, &counts, 0.125), 0.5);
        assert_eq!(quantile(&bounds, &counts, 0.375), 1.5);
        assert_eq!(quantile(&bounds, &counts, 0.75), 3.0);
        assert!((quantile(&bounds, &counts, 0.99) - 3.96).abs() < 1e-12);
        // Overflow: the highest finite bound; no observations: NaN.
        assert_eq!(quantile(&bounds, &[0u64, 0, 1, 3], 0.9), 4.0);
        assert!(quantile(&bounds, &[0u64; 4], 0.5).is_nan());
        // A first bound at or below zero has no lower edge to interpolate from.
        assert_eq!(quantile(&[-1.0, 1.0], &[4u64, 0, 0], 0.5), -1.0);
    }

    #[test]
    fn stats_put_observations_at_bucket_middles() {
        let s = stats(&[1.0, 3.0], &[2.0, 2.0, 0.0]);
        assert_eq!((s.mean, s.stddev, s.samples), (1.25, 0.75, 4));
        assert_eq!(stats(&[1.0], &[0u64, 0]), Stats::default());
    }

    #[test]
    fn chi_square_quantiles_are_close_to_the_tables() {
        // Tables: 99.9th percentile (z = 3.09) of 10 and 30 degrees of freedom.
        assert!((chi_square_quantile(10.0, 3.09) - 29.59).abs() < 0.3);
        assert!((chi_square_quantile(30.0, 3.09) - 59.70).abs() < 0.4);
    }
}
