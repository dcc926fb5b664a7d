//! `processors.drift` settings.

use driftd_core::config::FieldError;
use serde::{Deserialize, Serialize};
use std::num::{NonZeroU32, NonZeroUsize};

/// Settings of the drift processor. Every number has a default that needs no tuning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriftConfig {
    /// How the baseline is learned.
    #[serde(default)]
    pub baseline: BaselineConfig,
    /// The z-score rule set.
    #[serde(default)]
    pub zscore: ZScoreConfig,
    /// Most series tracked at once; points of further new series are refused and
    /// counted in `driftd_processor_overflow_points_total`.
    #[serde(default = "DriftConfig::default_max_series")]
    pub max_series: NonZeroUsize,
}

impl DriftConfig {
    fn default_max_series() -> NonZeroUsize {
        NonZeroUsize::new(1_000_000).expect("non-zero")
    }

    /// Cross-field rules.
    pub fn validate(&self) -> Vec<FieldError> {
        self.zscore.validate("zscore")
    }
}

impl Default for DriftConfig {
    fn default() -> Self {
        DriftConfig {
            baseline: BaselineConfig::default(),
            zscore: ZScoreConfig::default(),
            max_series: Self::default_max_series(),
        }
    }
}

/// `baseline`: what normal looks like is learned from the first samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineConfig {
    /// Samples learned before a series is judged (state INSUFFICIENT_DATA until then).
    #[serde(default = "BaselineConfig::default_warmup")]
    pub warmup_samples: NonZeroU32,
}

impl BaselineConfig {
    fn default_warmup() -> NonZeroU32 {
        NonZeroU32::new(100).expect("non-zero")
    }
}

impl Default for BaselineConfig {
    fn default() -> Self {
        BaselineConfig {
            warmup_samples: Self::default_warmup(),
        }
    }
}

/// `zscore`: drift when |z| against the baseline is large for long enough.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZScoreConfig {
    /// SEVERE: |z| above this ...
    #[serde(default = "ZScoreConfig::default_severe_z")]
    pub severe_z: f64,
    /// ... for this many consecutive samples.
    #[serde(default = "ZScoreConfig::default_severe_count")]
    pub severe_count: NonZeroU32,
    /// MODERATE: |z| above this ...
    #[serde(default = "ZScoreConfig::default_moderate_z")]
    pub moderate_z: f64,
    /// ... in at least this many ...
    #[serde(default = "ZScoreConfig::default_moderate_count")]
    pub moderate_count: NonZeroU32,
    /// ... of the last this many samples (at most 64).
    #[serde(default = "ZScoreConfig::default_moderate_window")]
    pub moderate_window: NonZeroU32,
    /// Recovery: |z| at or below this ...
    #[serde(default = "ZScoreConfig::default_recovery_z")]
    pub recovery_z: f64,
    /// ... for this many consecutive samples.
    #[serde(default = "ZScoreConfig::default_recovery_count")]
    pub recovery_count: NonZeroU32,
}

impl ZScoreConfig {
    fn default_severe_z() -> f64 {
        3.0
    }
    fn default_severe_count() -> NonZeroU32 {
        NonZeroU32::new(5).expect("non-zero")
    }
    fn default_moderate_z() -> f64 {
        2.5
    }
    fn default_moderate_count() -> NonZeroU32 {
        NonZeroU32::new(10).expect("non-zero")
    }
    fn default_moderate_window() -> NonZeroU32 {
        NonZeroU32::new(20).expect("non-zero")
    }
    fn default_recovery_z() -> f64 {
        2.0
    }
    fn default_recovery_count() -> NonZeroU32 {
        NonZeroU32::new(50).expect("non-zero")
    }

    fn validate(&self, at: &str) -> Vec<FieldError> {
        let mut errors = Vec::new();
        for (name, z) in [
            ("severe_z", self.severe_z),
            ("moderate_z", self.moderate_z),
            ("recovery_z", self.recovery_z),
        ] {
            if !(z.is_finite() && z > 0.0) {
                errors.push(FieldError::new(
                    format!("{at}.{name}"),
                    format!("must be a positive number, got {z}"),
                ));
            }
        }
        if self.moderate_window.get() > 64 {
            errors.push(FieldError::new(
                format!("{at}.moderate_window"),
                format!("must be at most 64, got {}", self.moderate_window),
            ));
        }
        if self.moderate_count > self.moderate_window {
            errors.push(FieldError::new(
                format!("{at}.moderate_count"),
                format!(
                    "must not exceed moderate_window ({}), got {}",
                    self.moderate_window, self.moderate_count
                ),
            ));
        }
        if self.recovery_z > self.moderate_z {
            errors.push(FieldError::new(
                format!("{at}.recovery_z"),
                format!(
                    "must not exceed moderate_z ({}), or a drifting series could never recover; got {}",
                    self.moderate_z, self.recovery_z
                ),
            ));
        }
        errors
    }
}

impl Default for ZScoreConfig {
    fn default() -> Self {
        ZScoreConfig {
            severe_z: Self::default_severe_z(),
            severe_count: Self::default_severe_count(),
            moderate_z: Self::default_moderate_z(),
            moderate_count: Self::default_moderate_count(),
            moderate_window: Self::default_moderate_window(),
            recovery_z: Self::default_recovery_z(),
            recovery_count: Self::default_recovery_count(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_rule_set() {
        let c = DriftConfig::default();
        assert_eq!(c.baseline.warmup_samples.get(), 100);
        assert_eq!((c.zscore.severe_z, c.zscore.severe_count.get()), (3.0, 5));
        assert_eq!(
            (
                c.zscore.moderate_z,
                c.zscore.moderate_count.get(),
                c.zscore.moderate_window.get()
            ),
            (2.5, 10, 20)
        );
        assert_eq!((c.zscore.recovery_z, c.zscore.recovery_count.get()), (2.0, 50));
        assert!(c.validate().is_empty());
    }

    #[test]
    fn inconsistent_rules_are_reported_with_their_paths() {
        let mut c = DriftConfig::default();
        c.zscore.moderate_window = NonZeroU32::new(100).unwrap();
        c.zscore.recovery_z = 4.0;
        c.zscore.severe_z = f64::NAN;
        let paths: Vec<_> = c.validate().into_iter().map(|e| e.path).collect();
        assert_eq!(
            paths,
            ["zscore.severe_z", "zscore.moderate_window", "zscore.recovery_z"]
        );
    }
}
