//! How heavy a series' tails are, learned with its baseline: the mean and variance of
//! the clipped absolute deviation `min(|r|, clip)` under normal behaviour. From them
//! come how far one deviation may count (`clip`) and the spread test's standardised
//! value, so both are calibrated to the series' own tails rather than to Gaussian ones.

/// How far one deviation may count, in standard deviations, when the tails are Gaussian.
const GAUSSIAN_CLIP: f64 = 4.0;

/// Mean and standard deviation of `min(|Z|, 4)` for a standard normal `Z` (√(2/π) and
/// √(1 − 2/π)): what is assumed until the series' own are known.
const GAUSSIAN_DEV_MEAN: f64 = 0.797_885;
const GAUSSIAN_DEV_SD: f64 = 0.602_810;

/// Deviations learned before the series' own mean and spread of them are used.
const FIRST: u32 = 10;

/// Deviations learned before the tails count as known (100): until then deviations are
/// clipped as Gaussian ones and the spread is not judged (a few dozen samples of a
/// heavy-tailed series look narrower than it is).
const KNOWN: u32 = 100;

/// The clipped absolute deviation's mean and variance: 8 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Tails {
    mean: f32,
    var: f32,
}

impl Tails {
    /// How far a deviation may count, and the spread statistic of `r`, for a baseline
    /// that learned `n` samples. The spread is about 0 ± 1 under normal behaviour
    /// whatever the tails, larger when the spread grows, and 0 until the tails are
    /// known. Absolute rather than squared deviations, clipped where the tails say: a
    /// few outliers do not pass for a wider spread.
    pub fn judge(&self, n: u32, r: f64) -> (f64, f64) {
        if n <= KNOWN {
            return (GAUSSIAN_CLIP, 0.0);
        }
        let (mean, sd) = self.stats(n);
        let clip = Self::clip(mean, sd);
        (clip, (r.abs().min(clip) - mean) / sd)
    }

    /// Learns the deviation `r`, which the baseline clipped at `clip`, with weight `w`.
    pub fn learn(&mut self, r: f64, clip: f64, w: f64) {
        let (mean, var) = (f64::from(self.mean), f64::from(self.var));
        let d = r.abs().min(clip) - mean;
        self.mean = (mean + w * d) as f32;
        self.var = ((1.0 - w) * (var + w * d * d)) as f32;
    }

    /// The series' own mean and standard deviation once a few were learned, the
    /// Gaussian ones before.
    fn stats(&self, n: u32) -> (f64, f64) {
        if n > FIRST {
            (f64::from(self.mean), f64::from(self.var).sqrt().max(0.05))
        } else {
            (GAUSSIAN_DEV_MEAN, GAUSSIAN_DEV_SD)
        }
    }

    /// How far one deviation may count: 4 standard deviations when the tails are
    /// Gaussian, less as they are heavier, measured by how widely the clipped absolute
    /// deviations vary: 4 divided by the square of how much their coefficient of
    /// variation exceeds the Gaussian one (0.76). The deviations are clipped at this
    /// clip, so it settles where the two agree (Student t(3): about 2.7, see
    /// `baseline_tests`). So a heavy-tailed series needs about as many unusual values to
    /// raise an alarm as a Gaussian one does, rather than a few of its ordinary
    /// outliers. Between 2 and 4.
    fn clip(mean: f64, sd: f64) -> f64 {
        let heavier = (sd / mean) / (GAUSSIAN_DEV_SD / GAUSSIAN_DEV_MEAN);
        (GAUSSIAN_CLIP / (heavier * heavier)).clamp(GAUSSIAN_CLIP / 2.0, GAUSSIAN_CLIP)
    }
}
