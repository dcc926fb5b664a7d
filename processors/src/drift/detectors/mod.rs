//! The detectors: pure state machines (no I/O, no clock; time comes from the data),
//! one enum for static dispatch. Each sees every judged sample of its series and
//! decides when a drift starts and when it ends.

mod auto;
mod cusum;
mod histogram;
mod page_hinkley;
mod rolling;
mod zscore;

pub use auto::AutoConfig;
pub use cusum::CusumConfig;
pub use histogram::{HistogramConfig, HistogramDetector, Judged as HistogramJudged};
pub use page_hinkley::PageHinkleyConfig;
pub use rolling::RollingConfig;
pub use zscore::ZScoreConfig;

use driftd_core::config::FieldError;
use driftd_core::Severity;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One sample as a detector sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Event time.
    pub time: u64,
    /// Deviation from the baseline in standard deviations.
    pub z: f64,
    /// `z` with lag-1 autocorrelation removed.
    pub r: f64,
    /// The squared deviation standardised against its own baseline (0 ± 1 when the
    /// spread is normal, whatever the tails).
    pub spread: f64,
    /// How far one deviation may count, in standard deviations (4 for Gaussian tails,
    /// down to 2 for heavy ones).
    pub clip: f64,
    /// How much more evidence the series must show: `auto` raises its thresholds by
    /// this fraction (0 = the tuned thresholds). See the series' `wariness`.
    pub wariness: f64,
}

/// A change of state a detector decided on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Transition {
    /// Drift began; `onset` is the event time the evidence started.
    Start {
        /// How strong.
        severity: Severity,
        /// When the change likely began.
        onset: u64,
    },
    /// The series is back to normal; `onset` is when it returned.
    End {
        /// When the series returned to normal.
        onset: u64,
    },
}

/// `detector:` — which detector watches a series, with its parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum DetectorConfig {
    /// The zero-configuration default: CUSUMs for small and large shifts and for
    /// variance, on prewhitened robustly clipped values.
    Auto(AutoConfig),
    /// Classic z-score rules: k consecutive |z| > 3, m of w > 2.5, recovery after r calm.
    Zscore(ZScoreConfig),
    /// Windowed mean shift and standard-deviation ratio against the baseline.
    Rolling(RollingConfig),
    /// Page-Hinkley test for mean changes.
    PageHinkley(PageHinkleyConfig),
    /// Two-sided CUSUM for mean shifts, with an onset estimate.
    Cusum(CusumConfig),
    /// Distribution drift of histograms: the recent bucket distribution against the
    /// baseline's (PSI). Histogram series always use it (with defaults when their rule
    /// names a scalar detector); scalar series a rule gives it to use the processor's
    /// default scalar detector.
    Histogram(HistogramConfig),
}

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig::Auto(AutoConfig::default())
    }
}

impl DetectorConfig {
    /// Cross-field rules, paths relative to `at`.
    pub fn validate(&self, at: &str) -> Vec<FieldError> {
        match self {
            DetectorConfig::Auto(c) => c.validate(at),
            DetectorConfig::Zscore(c) => c.validate(at),
            DetectorConfig::Rolling(c) => c.validate(at),
            DetectorConfig::PageHinkley(c) => c.validate(at),
            DetectorConfig::Cusum(c) => c.validate(at),
            DetectorConfig::Histogram(c) => c.validate(at),
        }
    }
}

/// A detector's state for one series.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Detector {
    /// See [`DetectorConfig::Auto`].
    Auto(auto::Auto),
    /// See [`DetectorConfig::Zscore`].
    Zscore(zscore::ZScore),
    /// See [`DetectorConfig::Rolling`].
    Rolling(rolling::Rolling),
    /// See [`DetectorConfig::PageHinkley`].
    PageHinkley(page_hinkley::PageHinkley),
    /// See [`DetectorConfig::Cusum`].
    Cusum(cusum::Cusum),
}

impl Detector {
    /// A fresh detector of the configured kind.
    pub fn new(c: &DetectorConfig) -> Self {
        match c {
            DetectorConfig::Auto(_) => Detector::Auto(Default::default()),
            DetectorConfig::Zscore(_) => Detector::Zscore(Default::default()),
            DetectorConfig::Rolling(_) => Detector::Rolling(Default::default()),
            DetectorConfig::PageHinkley(_) => Detector::PageHinkley(Default::default()),
            DetectorConfig::Cusum(_) => Detector::Cusum(Default::default()),
            // Profiles never give it to a scalar series (see `rules`); `auto` if one did.
            DetectorConfig::Histogram(_) => Detector::Auto(Default::default()),
        }
    }

    /// The config name, for events.
    pub fn name(&self) -> &'static str {
        match self {
            Detector::Auto(_) => "auto",
            Detector::Zscore(_) => "zscore",
            Detector::Rolling(_) => "rolling",
            Detector::PageHinkley(_) => "page_hinkley",
            Detector::Cusum(_) => "cusum",
        }
    }

    /// Feeds one sample.
    pub fn update(&mut self, c: &DetectorConfig, s: &Sample) -> Option<Transition> {
        match (self, c) {
            (Detector::Auto(d), DetectorConfig::Auto(c)) => d.update(c, s),
            (Detector::Zscore(d), DetectorConfig::Zscore(c)) => d.update(c, s),
            (Detector::Rolling(d), DetectorConfig::Rolling(c)) => d.update(c, s),
            (Detector::PageHinkley(d), DetectorConfig::PageHinkley(c)) => d.update(c, s),
            (Detector::Cusum(d), DetectorConfig::Cusum(c)) => d.update(c, s),
            // A series keeps the detector its rule gave it; the pair always matches.
            _ => None,
        }
    }

    /// The detector's current scores, for events.
    pub fn scores(&self, out: &mut BTreeMap<String, f64>) {
        let mut put = |k: &str, v: f64| {
            out.insert(k.to_string(), v);
        };
        match self {
            Detector::Auto(d) => d.scores(&mut put),
            Detector::Zscore(d) => d.scores(&mut put),
            Detector::Rolling(d) => d.scores(&mut put),
            Detector::PageHinkley(d) => d.scores(&mut put),
            Detector::Cusum(d) => d.scores(&mut put),
        }
    }

    /// Whether evidence of an upward and of a downward shift is being gathered (the
    /// statistic of that direction is off zero). Detectors without such statistics
    /// gather none.
    pub fn excursions(&self) -> (bool, bool) {
        match self {
            Detector::Auto(d) => d.excursions(),
            Detector::Cusum(d) => d.excursions(),
            Detector::Zscore(_) | Detector::Rolling(_) | Detector::PageHinkley(_) => (false, false),
        }
    }

    /// Whether the evidence gathered so far is past half of what starts a drift: a
    /// young baseline (which learns fast) does not learn such samples, so a change
    /// under way is not absorbed into normal before it is found. In-control noise gets
    /// that far rarely, so holding its samples back biases nothing measurably.
    /// Detectors without running statistics never hold learning back.
    pub fn suspicious(&self, c: &DetectorConfig) -> bool {
        match (self, c) {
            (Detector::Auto(d), DetectorConfig::Auto(c)) => d.suspicious(c),
            (Detector::Cusum(d), DetectorConfig::Cusum(c)) => d.suspicious(c),
            _ => false,
        }
    }

    /// Forgets everything (the baseline was replaced).
    pub fn reset(&mut self) {
        match self {
            Detector::Auto(d) => *d = Default::default(),
            Detector::Zscore(d) => *d = Default::default(),
            Detector::Rolling(d) => *d = Default::default(),
            Detector::PageHinkley(d) => *d = Default::default(),
            Detector::Cusum(d) => *d = Default::default(),
        }
    }
}

/// Whether a detector is in a drift, and its run of calm samples: the shared recovery
/// rule (16 bytes, so every detector fits the per-series budget).
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Calm {
    run: u32,
    drifting: bool,
    since: u64,
}

impl Calm {
    /// Enters a drift.
    pub fn start(&mut self) {
        *self = Calm {
            drifting: true,
            ..Calm::default()
        };
    }

    /// Whether in a drift.
    pub fn drifting(&self) -> bool {
        self.drifting
    }

    /// Feeds one sample while drifting; returns when the calm run began once it is
    /// `needed` long.
    pub fn update(&mut self, calm: bool, time: u64, needed: u32) -> Option<u64> {
        if !calm {
            self.run = 0;
            return None;
        }
        if self.run == 0 {
            self.since = time;
        }
        self.run += 1;
        (self.run >= needed).then_some(self.since)
    }
}

/// One side of a CUSUM: `S = max(0, S + x - k)`, remembering when it last left zero.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Side {
    /// The statistic.
    pub s: f64,
    /// Event time of the first sample of the current excursion above zero.
    pub left_zero: u64,
}

impl Side {
    /// Adds `x - k`.
    pub fn add(&mut self, x: f64, k: f64, time: u64) {
        let next = self.s + x - k;
        if next <= 0.0 {
            self.s = 0.0;
        } else {
            if self.s == 0.0 {
                self.left_zero = time;
            }
            self.s = next;
        }
    }
}

fn positive(at: &str, name: &str, v: f64, errors: &mut Vec<FieldError>) {
    if !(v.is_finite() && v > 0.0) {
        errors.push(FieldError::new(
            format!("{at}.{name}"),
            format!("must be a positive number, got {v}"),
        ));
    }
}
