//! Recent history per series, for the console and for the evidence each event stores:
//! the newest `samples` samples as they came (with the baseline each was judged
//! against), and before them `buckets` buckets of `bucket_samples` samples each
//! (mean, min, max). A fixed number of bytes per series once full, allocated only for
//! the series given a ring (`history.series`, see [`HistoryConfig`]).

use super::stats::narrow;
use driftd_core::history::{History, Row};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::num::NonZeroU32;

/// `history:` settings of the drift processor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryConfig {
    /// Series given a ring, first come first served; series that start drifting get
    /// one even past this, up to a quarter more. `0` keeps no history at all (and
    /// events carry no snapshot).
    #[serde(default = "HistoryConfig::default_series")]
    pub series: usize,
    /// Newest samples kept as they came.
    #[serde(default = "HistoryConfig::default_samples")]
    pub samples: NonZeroU32,
    /// Buckets kept before them.
    #[serde(default = "HistoryConfig::default_buckets")]
    pub buckets: u32,
    /// Samples per bucket.
    #[serde(default = "HistoryConfig::default_bucket_samples")]
    pub bucket_samples: NonZeroU32,
}

impl HistoryConfig {
    fn default_series() -> usize {
        10_000
    }
    fn default_samples() -> NonZeroU32 {
        NonZeroU32::new(120).expect("non-zero")
    }
    fn default_buckets() -> u32 {
        60
    }
    fn default_bucket_samples() -> NonZeroU32 {
        NonZeroU32::new(30).expect("non-zero")
    }

    /// Rings at most, counting the reserve for drifting series.
    pub fn max_rings(&self) -> usize {
        self.series.saturating_add(self.series / 4)
    }

    /// Bytes of one full ring (what BENCHMARKS.md states).
    pub fn ring_bytes(&self) -> usize {
        std::mem::size_of::<Ring>()
            + self.samples.get() as usize * std::mem::size_of::<Sample>()
            + self.buckets as usize * std::mem::size_of::<Bucket>()
    }
}

impl Default for HistoryConfig {
    fn default() -> Self {
        HistoryConfig {
            series: Self::default_series(),
            samples: Self::default_samples(),
            buckets: Self::default_buckets(),
            bucket_samples: Self::default_bucket_samples(),
        }
    }
}

/// One sample as it came. `f32`: a chart needs 7 significant digits, not 16.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
struct Sample {
    time: u64,
    value: f32,
    /// Baseline level and standard deviation (NaN while learning).
    level: f32,
    sd: f32,
}

/// Consecutive samples folded together.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
struct Bucket {
    /// The first sample's time.
    time: u64,
    sum: f32,
    min: f32,
    max: f32,
    /// The last sample's baseline.
    level: f32,
    sd: f32,
    samples: u32,
}

impl Bucket {
    fn starting(s: &Sample) -> Self {
        Bucket {
            time: s.time,
            sum: s.value,
            min: s.value,
            max: s.value,
            level: s.level,
            sd: s.sd,
            samples: 1,
        }
    }

    fn add(&mut self, s: &Sample) {
        self.sum = narrow(f64::from(self.sum) + f64::from(s.value));
        self.min = self.min.min(s.value);
        self.max = self.max.max(s.value);
        (self.level, self.sd) = (s.level, s.sd);
        self.samples += 1;
    }

    fn row(&self) -> Row {
        Row {
            time: seconds(self.time),
            value: f64::from(self.sum) / f64::from(self.samples),
            min: f64::from(self.min),
            max: f64::from(self.max),
            level: f64::from(self.level),
            sd: f64::from(self.sd),
        }
    }
}

/// One series' recent history.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Ring {
    recent: VecDeque<Sample>,
    /// The bucket the samples leaving `recent` are folded into.
    filling: Option<Bucket>,
    buckets: VecDeque<Bucket>,
}

impl Ring {
    /// Records a sample at `time` with the baseline it was judged against (`level` and
    /// `sd` NaN while learning).
    pub fn record(&mut self, c: &HistoryConfig, time: u64, value: f64, level: f64, sd: f64) {
        if self.recent.len() >= c.samples.get() as usize {
            if let Some(old) = self.recent.pop_front() {
                self.fold(c, &old);
            }
        } else if self.recent.capacity() == 0 {
            self.recent.reserve_exact(c.samples.get() as usize);
        }
        self.recent.push_back(Sample {
            time,
            value: narrow(value),
            level: narrow(level),
            sd: narrow(sd),
        });
    }

    fn fold(&mut self, c: &HistoryConfig, s: &Sample) {
        if c.buckets == 0 {
            return;
        }
        match &mut self.filling {
            Some(b) => b.add(s),
            None => self.filling = Some(Bucket::starting(s)),
        }
        if self.filling.is_some_and(|b| b.samples >= c.bucket_samples.get()) {
            if self.buckets.len() >= c.buckets as usize {
                self.buckets.pop_front();
            } else if self.buckets.capacity() == 0 {
                self.buckets.reserve_exact(c.buckets as usize);
            }
            self.buckets.extend(self.filling.take());
        }
    }

    /// Everything kept, oldest first: buckets, then samples.
    pub fn history(&self) -> History {
        let mut h = History::default();
        for b in self.buckets.iter().chain(&self.filling) {
            h.push(b.row());
        }
        for s in &self.recent {
            let value = f64::from(s.value);
            h.push(Row {
                time: seconds(s.time),
                value,
                min: value,
                max: value,
                level: f64::from(s.level),
                sd: f64::from(s.sd),
            });
        }
        h
    }
}

fn seconds(unix_nano: u64) -> f64 {
    unix_nano as f64 / 1e9
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ring of `samples` samples and two buckets of three.
    fn small(samples: u32) -> HistoryConfig {
        HistoryConfig {
            series: 1,
            samples: NonZeroU32::new(samples).unwrap(),
            buckets: 2,
            bucket_samples: NonZeroU32::new(3).unwrap(),
        }
    }

    #[test]
    fn old_samples_fold_into_buckets_and_the_oldest_buckets_go() {
        let c = small(4);
        let mut r = Ring::default();
        for t in 0..14u64 {
            r.record(&c, t * 1_000_000_000, t as f64, 5.0, 1.0);
        }
        let h = r.history();
        // Samples 0..10 left `recent`: buckets [0,1,2] (gone), [3,4,5], [6,7,8], and 9
        // filling; 10..13 as they came.
        assert_eq!(h.time, [3.0, 6.0, 9.0, 10.0, 11.0, 12.0, 13.0]);
        assert_eq!(h.value, [4.0, 7.0, 9.0, 10.0, 11.0, 12.0, 13.0]);
        assert_eq!(h.min[..2], [3.0, 6.0]);
        assert_eq!(h.max[..2], [5.0, 8.0]);
        assert_eq!(h.level, [5.0; 7]);
    }

    #[test]
    fn a_full_ring_stays_the_size_it_states() {
        let c = HistoryConfig::default();
        let mut r = Ring::default();
        for t in 0..10_000u64 {
            r.record(&c, t, 1.0, 1.0, 1.0);
        }
        assert_eq!(r.recent.capacity(), c.samples.get() as usize);
        assert_eq!(r.buckets.capacity(), c.buckets as usize);
        assert_eq!(r.history().len(), 60 + 1 + 120);
        assert!(c.ring_bytes() < 5_000, "{}", c.ring_bytes());
    }

    #[test]
    fn values_past_the_f32_range_are_held_at_its_edge_so_the_history_reads_back() {
        let c = small(2);
        let mut r = Ring::default();
        for t in 0..8u64 {
            let big = if t % 2 == 0 { 1e45 } else { 3e38 };
            r.record(&c, t * 1_000_000_000, big, f64::NAN, -1e60);
        }
        let h = r.history();
        let edge = f64::from(f32::MAX);
        assert!(
            h.value.iter().chain(&h.max).all(|v| v.is_finite() && *v <= edge),
            "{h:?}"
        );
        assert!(h.sd.iter().all(|&v| v == -edge));
        assert!(h.level.iter().all(|v| v.is_nan()), "no baseline stays no baseline");
        let json = serde_json::to_string(&h).unwrap();
        let back: History = serde_json::from_str(&json).expect("the history reads back");
        assert_eq!(back.value, h.value);
    }
}
