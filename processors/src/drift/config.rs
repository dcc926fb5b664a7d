//! `processors.drift` settings.

use super::baseline::BaselineConfig;
use super::detectors::DetectorConfig;
use super::history::HistoryConfig;
use super::min_change::MinChange;
use super::rules::RuleConfig;
use crate::incidents::IncidentsConfig;
use driftd_core::config::FieldError;
use serde::{Deserialize, Serialize};
use std::num::NonZeroUsize;
use std::time::Duration;

/// Settings of the drift processor. Every number has a default that needs no tuning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriftConfig {
    /// How baselines are learned (for series no rule matches).
    #[serde(default)]
    pub baseline: BaselineConfig,
    /// The detector for series no rule matches (default `auto`).
    ///
    /// Histogram series always get distribution drift (`histogram`): with the
    /// parameters of the `histogram` detector their rule (or this default) names, else
    /// its defaults. A scalar series whose rule names `histogram` gets this default
    /// scalar detector (`auto` when this is `histogram` too). The `<name>_p50`, `_p90`
    /// and `_p99` series derived from histograms are scalar series like any other.
    #[serde(default)]
    pub detector: DetectorConfig,
    /// A drift that lasts this long becomes the new normal: the baseline is relearned
    /// from the drifted data and a drift_end with reason `rebaselined` is raised.
    /// `0s` never accepts a drift.
    #[serde(default = "DriftConfig::default_accept_after", with = "humantime_serde")]
    pub accept_after: Duration,
    /// How large a change must be to raise a drift (for series no rule matches).
    #[serde(default)]
    pub min_change: MinChange,
    /// Per-series overrides, first match wins.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<RuleConfig>,
    /// Most series tracked at once; points of further new series are refused and
    /// counted in `driftd_processor_overflow_points_total`. A new histogram series
    /// needs room with scalar and histogram series counted together.
    #[serde(default = "DriftConfig::default_max_series")]
    pub max_series: NonZeroUsize,
    /// How often detector state is saved to a persistent storage backend (and restored
    /// at startup); `0s` never saves. Ignored with the memory backend. A Kafka receiver
    /// commits an offset only once a saved checkpoint covers its message.
    #[serde(default = "DriftConfig::default_checkpoint_interval", with = "humantime_serde")]
    pub checkpoint_interval: Duration,
    /// A series without a point for this long is forgotten: its state and labels are
    /// freed, it leaves `/metrics` and the API, and if it comes back it learns its
    /// baseline again. A drifting series expires too, with a drift_end of reason
    /// `expired` (not a recovery: nothing is left to alert on). Whole seconds; `0s`
    /// keeps every series forever.
    #[serde(default = "DriftConfig::default_series_ttl", with = "humantime_serde")]
    pub series_ttl: Duration,
    /// How drift events are grouped into incidents (one per entity and problem).
    #[serde(default)]
    pub incidents: IncidentsConfig,
    /// The recent history kept per series, for the console and each event's evidence.
    #[serde(default)]
    pub history: HistoryConfig,
}

impl DriftConfig {
    fn default_max_series() -> NonZeroUsize {
        NonZeroUsize::new(1_000_000).expect("non-zero")
    }

    fn default_checkpoint_interval() -> Duration {
        Duration::from_secs(30)
    }

    /// An hour: Prometheus calls a series stale after 5 minutes, but a baseline costs
    /// 100 samples to relearn, so a series that merely reports slowly keeps its own.
    fn default_series_ttl() -> Duration {
        Duration::from_secs(3600)
    }

    fn default_accept_after() -> Duration {
        Duration::from_secs(24 * 3600)
    }

    /// Cross-field rules.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errors = self.detector.validate("detector");
        errors.extend(self.min_change.validate("min_change"));
        errors.extend(self.incidents.validate("incidents"));
        for (i, rule) in self.rules.iter().enumerate() {
            errors.extend(rule.validate(&format!("rules[{i}]")));
        }
        if self.series_ttl.subsec_nanos() != 0 {
            errors.push(FieldError::new(
                "series_ttl",
                "use whole seconds (e.g. `90s`, `1h`), or `0s` to keep series forever",
            ));
        }
        errors
    }
}

impl Default for DriftConfig {
    fn default() -> Self {
        DriftConfig {
            baseline: BaselineConfig::default(),
            detector: DetectorConfig::default(),
            accept_after: Self::default_accept_after(),
            min_change: MinChange::default(),
            rules: Vec::new(),
            max_series: Self::default_max_series(),
            checkpoint_interval: Self::default_checkpoint_interval(),
            series_ttl: Self::default_series_ttl(),
            incidents: IncidentsConfig::default(),
            history: HistoryConfig::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::detectors::ZScoreConfig;

    #[test]
    fn the_default_is_auto_with_an_adaptive_baseline() {
        let c: DriftConfig = serde_yaml::from_str("{}").unwrap();
        assert_eq!(c, DriftConfig::default());
        assert!(matches!(c.detector, DetectorConfig::Auto(_)));
        assert!(c.validate().is_empty());
    }

    #[test]
    fn detectors_are_chosen_by_type_with_their_parameters() {
        let c: DriftConfig = serde_yaml::from_str("detector:\n  type: zscore\n  severe_count: 3\n").unwrap();
        let DetectorConfig::Zscore(z) = c.detector else {
            panic!("zscore")
        };
        assert_eq!(z.severe_count.get(), 3);
        assert_eq!(z.moderate_window, ZScoreConfig::default().moderate_window);
        let err = serde_yaml::from_str::<DriftConfig>("detector:\n  type: cusum\n  severe_count: 3\n").unwrap_err();
        assert!(err.to_string().contains("unknown field `severe_count`"), "{err}");
    }

    #[test]
    fn the_histogram_detector_is_chosen_by_type() {
        let c: DriftConfig = serde_yaml::from_str("detector:\n  type: histogram\n  enter_psi: 0.2\n").unwrap();
        let DetectorConfig::Histogram(h) = c.detector else {
            panic!("histogram")
        };
        assert_eq!(h.enter_psi, 0.2);
        assert_eq!(h.exit_psi, 0.05);
        let c: DriftConfig =
            serde_yaml::from_str("rules:\n  - match: {metric: 'x'}\n    detector: {type: histogram, exit_psi: 0.3}\n")
                .unwrap();
        let paths: Vec<_> = c.validate().into_iter().map(|e| e.path).collect();
        assert_eq!(paths, ["rules[0].detector.exit_psi"]);
    }

    #[test]
    fn series_ttl_is_whole_seconds_or_off() {
        let c: DriftConfig = serde_yaml::from_str("series_ttl: 0s").unwrap();
        assert!(c.series_ttl.is_zero() && c.validate().is_empty());
        let c: DriftConfig = serde_yaml::from_str("series_ttl: 1500ms").unwrap();
        let paths: Vec<_> = c.validate().into_iter().map(|e| e.path).collect();
        assert_eq!(paths, ["series_ttl"]);
    }

    #[test]
    fn inconsistent_rules_are_reported_with_their_paths() {
        let c: DriftConfig = serde_yaml::from_str(
            "detector:\n  type: zscore\n  moderate_window: 100\n  recovery_z: 4\n  severe_z: -1\nrules:\n  - match: {metric: 'x*'}\n    detector: {type: cusum, h: 0}\n",
        )
        .unwrap();
        let paths: Vec<_> = c.validate().into_iter().map(|e| e.path).collect();
        assert_eq!(
            paths,
            [
                "detector.severe_z",
                "detector.moderate_window",
                "detector.recovery_z",
                "rules[0].detector.h"
            ]
        );
    }
}
