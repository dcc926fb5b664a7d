//! A seasonal profile: the expected level per hour of the day or week, learned from
//! the data and interpolated between hour centres (`baseline: {seasonality: ...}`).

const HOUR: u64 = 3_600_000_000_000;

/// Expected level per hour bucket, interpolated between bucket centres.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Seasonal {
    level: Box<[f64]>,
    seen: Box<[u32]>,
    first_time: u64,
    /// The first whole season is in: residual statistics were restarted against it.
    pub settled: bool,
}

impl Seasonal {
    /// An empty profile of `buckets` hours, starting at `time`.
    pub fn new(buckets: usize, time: u64) -> Self {
        Seasonal {
            level: vec![0.0; buckets].into_boxed_slice(),
            seen: vec![0; buckets].into_boxed_slice(),
            first_time: time,
            settled: false,
        }
    }

    fn slot(&self, time: u64) -> (usize, usize, f64) {
        let n = self.level.len();
        // Position in hours from the first bucket's centre.
        let hours = (time % (HOUR * n as u64)) as f64 / HOUR as f64 - 0.5;
        let pos = hours.rem_euclid(n as f64);
        let i = pos.floor() as usize % n;
        (i, (i + 1) % n, pos - pos.floor())
    }

    /// The expected level at `time`, interpolated between the neighbouring hours.
    pub fn expected(&self, time: u64) -> f64 {
        let (i, j, f) = self.slot(time);
        let (a, b) = (self.level[i], self.level[j]);
        let (a, b) = match (self.seen[i], self.seen[j]) {
            (0, 0) => return 0.0,
            (0, _) => (b, b),
            (_, 0) => (a, a),
            _ => (a, b),
        };
        a + (b - a) * f
    }

    /// Learns `x` into the hour of `time` (weight `max(1/seen, alpha)`).
    pub fn learn(&mut self, time: u64, x: f64, alpha: f64) {
        let i = ((time / HOUR) % self.level.len() as u64) as usize;
        self.seen[i] = self.seen[i].saturating_add(1);
        let w = (1.0 / f64::from(self.seen[i])).max(alpha);
        self.level[i] += w * (x - self.level[i]);
    }

    /// Whether the profile has `n` hour buckets (a checkpoint that says otherwise is
    /// damaged, or from a config with another seasonality).
    pub fn has_buckets(&self, n: usize) -> bool {
        n > 0 && self.level.len() == n && self.seen.len() == n
    }

    /// Whether one whole season has been seen.
    pub fn complete(&self, time: u64) -> bool {
        time.saturating_sub(self.first_time) >= HOUR * self.level.len() as u64 && self.seen.iter().all(|&s| s > 0)
    }
}
