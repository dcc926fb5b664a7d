//! `incidents.canary` settings.

use crate::drift::MinChange;
use driftd_core::config::FieldError;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Compare a cohort of each service with the rest of it. Off unless set.
///
/// ```yaml
/// incidents:
///   canary:
///     cohort: service.version        # each minority version against the others
///     # cohort: deployment.canary=true   (the series with that value against the rest)
///     window: 2m
///     min_change: {relative: 0.03}
/// ```
///
/// The cohort label must be part of the series' identity (for OTLP, add it to the
/// receiver's `identity.resource_attributes`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CanaryConfig {
    /// `label` (every value held by fewer than half of a service's instances is a
    /// cohort) or `label=value` (that value is the cohort, everything else the rest).
    pub cohort: String,
    /// The stretch of recent data compared, re-judged every quarter of it.
    #[serde(default = "CanaryConfig::default_window", with = "humantime_serde")]
    pub window: Duration,
    /// How far apart the cohort and the rest must be to matter, as for drift.
    #[serde(default)]
    pub min_change: MinChange,
}

impl CanaryConfig {
    fn default_window() -> Duration {
        Duration::from_secs(120)
    }

    /// The cohort label, and the value that makes the cohort when one is named.
    pub fn cohort(&self) -> (&str, Option<&str>) {
        match self.cohort.split_once('=') {
            Some((label, value)) => (label.trim(), Some(value.trim())),
            None => (self.cohort.trim(), None),
        }
    }

    /// Cross-field rules, paths relative to `at`.
    pub fn validate(&self, at: &str) -> Vec<FieldError> {
        let mut errors = self.min_change.validate(&format!("{at}.min_change"));
        let (label, value) = self.cohort();
        if label.is_empty() || value.is_some_and(str::is_empty) {
            errors.push(FieldError::new(
                format!("{at}.cohort"),
                format!(
                    "`{}` names no cohort: use a label (`service.version`) or label=value (`deployment.canary=true`)",
                    self.cohort
                ),
            ));
        }
        if self.window < Duration::from_secs(4) {
            errors.push(FieldError::new(
                format!("{at}.window"),
                "must be at least 4s (e.g. `2m`): the cohorts are compared over it",
            ));
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cohort_is_a_label_or_a_label_value() {
        let c: CanaryConfig = serde_yaml::from_str("cohort: service.version").unwrap();
        assert_eq!(c.cohort(), ("service.version", None));
        assert_eq!(c.window, Duration::from_secs(120));
        assert!(c.validate("canary").is_empty());
        let c: CanaryConfig = serde_yaml::from_str("{cohort: deployment.canary=true, window: 1m}").unwrap();
        assert_eq!(c.cohort(), ("deployment.canary", Some("true")));
    }

    #[test]
    fn an_empty_cohort_or_a_tiny_window_is_refused() {
        let c: CanaryConfig = serde_yaml::from_str("{cohort: 'version=', window: 1s}").unwrap();
        let paths: Vec<String> = c.validate("canary").into_iter().map(|e| e.path).collect();
        assert_eq!(paths, ["canary.cohort", "canary.window"]);
    }
}
