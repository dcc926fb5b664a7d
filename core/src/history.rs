//! A series' recent history as charts draw it: equal-length columns, oldest first.
//! The drift processor keeps it per series (a bounded ring), the query API serves it,
//! and every drift event stores a copy as its evidence.

use serde::{Deserialize, Serialize};

/// Samples (or buckets of samples) of one series with the baseline it was judged against.
///
/// Times are unix seconds (what chart libraries take). A bucket has its mean in `value`
/// and its extremes in `min`/`max`; a single sample has all three equal. `level` and
/// `sd` are the baseline's expected value and standard deviation at that time, `null`
/// (NaN) while the baseline was still being learned; `z` is the score the detectors
/// judge, the value's deviation from `level` in `sd`s.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// Event time of the sample, or of a bucket's first sample (unix seconds).
    pub time: Vec<f64>,
    /// The value (a bucket's mean).
    pub value: Vec<f64>,
    /// A bucket's smallest value.
    pub min: Vec<f64>,
    /// A bucket's largest value.
    pub max: Vec<f64>,
    /// The baseline's expected value.
    #[serde(with = "nullable")]
    pub level: Vec<f64>,
    /// The baseline's standard deviation.
    #[serde(with = "nullable")]
    pub sd: Vec<f64>,
    /// `(value - level) / sd` (derived on [`History::push`]).
    #[serde(default, with = "nullable")]
    pub z: Vec<f64>,
}

/// One row of a [`History`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Row {
    /// Unix seconds.
    pub time: f64,
    /// Value (mean of a bucket).
    pub value: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Baseline level (NaN while learning).
    pub level: f64,
    /// Baseline standard deviation (NaN while learning).
    pub sd: f64,
}

impl History {
    /// Rows kept.
    pub fn len(&self) -> usize {
        self.time.len()
    }

    /// Whether no row is kept.
    pub fn is_empty(&self) -> bool {
        self.time.is_empty()
    }

    /// Appends a row.
    pub fn push(&mut self, r: Row) {
        self.time.push(r.time);
        self.value.push(r.value);
        self.min.push(r.min);
        self.max.push(r.max);
        self.level.push(r.level);
        self.sd.push(r.sd);
        self.z.push((r.value - r.level) / r.sd);
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> Row {
        Row {
            time: self.time[i],
            value: self.value[i],
            min: self.min[i],
            max: self.max[i],
            level: self.level[i],
            sd: self.sd[i],
        }
    }

    /// The rows with `since <= time < until` (unix seconds), merged into buckets of
    /// `step` seconds (aligned to multiples of `step`) when one is given: each bucket
    /// has the mean, the extremes, and the last baseline of its rows.
    pub fn select(&self, since: f64, until: f64, step: Option<f64>) -> History {
        let mut out = History::default();
        let mut bucket: Option<(f64, Row, usize)> = None;
        for r in (0..self.len())
            .map(|i| self.row(i))
            .filter(|r| r.time >= since && r.time < until)
        {
            let Some(step) = step else {
                out.push(r);
                continue;
            };
            let start = (r.time / step).floor() * step;
            match &mut bucket {
                Some((at, b, n)) if *at == start => {
                    b.value += r.value;
                    b.min = b.min.min(r.min);
                    b.max = b.max.max(r.max);
                    (b.level, b.sd) = (r.level, r.sd);
                    *n += 1;
                }
                _ => {
                    if let Some((_, b, n)) = bucket.take() {
                        out.push(mean_of(b, n));
                    }
                    bucket = Some((start, Row { time: start, ..r }, 1));
                }
            }
        }
        if let Some((_, b, n)) = bucket {
            out.push(mean_of(b, n));
        }
        out
    }
}

fn mean_of(mut sum: Row, n: usize) -> Row {
    sum.value /= n as f64;
    sum
}

/// NaN is written as `null` (JSON has no NaN) and read back as NaN.
mod nullable {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|x| x.is_finite().then_some(*x)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        let v: Vec<Option<f64>> = Vec::deserialize(d)?;
        Ok(v.into_iter().map(|x| x.unwrap_or(f64::NAN)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(time: f64, value: f64) -> Row {
        Row {
            time,
            value,
            min: value,
            max: value,
            level: 10.0,
            sd: 1.0,
        }
    }

    #[test]
    fn selection_keeps_the_window_and_buckets_merge_rows() {
        let mut h = History::default();
        for (t, v) in [(0.0, 1.0), (1.0, 3.0), (2.0, 5.0), (3.0, 7.0), (4.0, 9.0)] {
            h.push(sample(t, v));
        }
        assert_eq!(h.select(1.0, 4.0, None).value, [3.0, 5.0, 7.0]);
        let b = h.select(0.0, 10.0, Some(2.0));
        assert_eq!(b.time, [0.0, 2.0, 4.0]);
        assert_eq!(b.value, [2.0, 6.0, 9.0]);
        assert_eq!(b.min, [1.0, 5.0, 9.0]);
        assert_eq!(b.max, [3.0, 7.0, 9.0]);
        assert_eq!(b.z, [-8.0, -4.0, -1.0], "the buckets' means against level 10, sd 1");
    }

    #[test]
    fn a_baseline_not_yet_learned_is_null_in_json_and_nan_back() {
        let mut h = History::default();
        h.push(Row {
            level: f64::NAN,
            sd: f64::NAN,
            ..sample(1.5, 2.0)
        });
        let json = serde_json::to_value(&h).unwrap();
        assert_eq!(json["level"], serde_json::json!([null]));
        assert_eq!(json["time"], serde_json::json!([1.5]));
        let back: History = serde_json::from_value(json.clone()).unwrap();
        assert!(back.level[0].is_nan() && back.value == [2.0]);
        assert_eq!(json["z"], serde_json::json!([null]), "no score without a baseline");
    }
}
