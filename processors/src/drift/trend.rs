//! A series' level and trend: a discounted least-squares line, i.e. a two-state
//! (level, slope) Kalman filter with forgetting. While few samples exist it is the
//! exact least-squares fit of a line, later a slow exponential one. The slope starts
//! pinned near zero by a prior ([`SLOPE_PRIOR`]) and follows the data once the data
//! says more than the prior: a young series is judged against its mean, and a steady
//! climb is learned as normal while a jump off it, or a change of its slope, is not.

use super::stats::narrow;

/// Prior variance of the slope, in squared noise standard deviations per sample: a
/// slope of 0.0003 σ a sample is one prior standard deviation. A line fit of `n`
/// samples knows its slope to a variance of about 12 / n³, which passes the prior
/// at about 500 samples: before that a young series is judged against its mean (a
/// trend fitted to a few dozen noisy samples would extrapolate noise, and would
/// absorb a step as a slope).
const SLOPE_PRIOR: f32 = 1e-6;

/// The line: 24 bytes. Single precision for all but the level (the state's size
/// budget): a relative error of 1e-7 in the slope or in how well the line is known
/// changes no judgement. Positions are counted in samples after the newest learned
/// one (`steps`), which the baseline keeps.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Line {
    /// The level at the newest learned sample.
    pub level: f64,
    /// Change of the level per sample.
    slope: f32,
    /// Covariance of (level, slope) in units of the noise variance: level, cross, slope.
    cov: [f32; 3],
}

impl Line {
    /// A line through `level`, known to `level_var` (in units of the noise variance),
    /// with no trend yet.
    pub fn start(level: f64, level_var: f64) -> Self {
        Line {
            level,
            slope: 0.0,
            cov: [level_var as f32, 0.0, SLOPE_PRIOR],
        }
    }

    /// A line through `level` known as one sample knows it, that learns no trend (the
    /// median estimator moves the level by its own rule).
    pub fn level_only(level: f64) -> Self {
        Line {
            level,
            slope: 0.0,
            cov: [1.0, 0.0, 0.0],
        }
    }

    /// The level expected `steps` samples after the newest learned one.
    pub fn at(&self, steps: u32) -> f64 {
        self.level + f64::from(self.slope) * f64::from(steps)
    }

    /// The variance of [`Line::at`] (in units of the noise variance): how little the
    /// fitted line is known there.
    pub fn var_at(&self, steps: u32) -> f64 {
        let [l, c, b] = self.cov.map(f64::from);
        let k = f64::from(steps);
        l + 2.0 * k * c + k * k * b
    }

    /// Learns a sample `steps` after the newest learned one, `d` (clipped) off the
    /// line's forecast there, forgetting `alpha` of what was known per learned sample.
    pub fn learn(&mut self, steps: u32, d: f64, alpha: f64) {
        // Predict to the sample, forgetting a little, then correct by `d`.
        let k = f64::from(steps.max(1));
        let forget = 1.0 / (1.0 - alpha);
        let [_, c, b] = self.cov.map(f64::from);
        let (l, c, b) = (self.var_at(steps.max(1)) * forget, (c + k * b) * forget, b * forget);
        let s = 1.0 + l;
        let (gain_level, gain_slope) = (l / s, c / s);
        let slope = f64::from(self.slope);
        self.level += slope * k + gain_level * d;
        // Narrowed, not cast: values near the input bound can ask for a slope past f32's
        // range, and an infinite slope would make the level infinite.
        self.slope = narrow(slope + gain_slope * d);
        self.cov = [l - gain_level * l, c - gain_level * c, b - gain_slope * c].map(|v| v as f32);
    }

    /// After the level was moved by some other rule (the median estimator, which
    /// learns no trend): how well it is known now, as for a discounted mean.
    pub fn learned_level_only(&mut self, alpha: f64) {
        let level = f64::from(self.cov[0]) / (1.0 - alpha);
        self.cov[0] = (level / (1.0 + level)) as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::Line;

    #[test]
    fn deviations_near_the_input_bound_leave_the_line_finite() {
        let mut line = Line::start(0.0, 1.0);
        for i in 0..1_000u32 {
            let d = if i % 2 == 0 { 1e100 } else { -3e99 };
            line.learn(1, d, 0.01);
            assert!(
                line.at(5).is_finite() && line.var_at(5).is_finite(),
                "after {i}: {line:?}"
            );
        }
    }
}
