//! `rules:`: pick detector, baseline and acceptance per series by metric-name glob and
//! label values; the first match wins, unmatched series use the processor's defaults.

use super::baseline::{BaselineConfig, BaselineParams};
use super::config::DriftConfig;
use super::detectors::{DetectorConfig, HistogramConfig};
use super::min_change::MinChange;
use driftd_core::config::FieldError;
use driftd_core::SeriesLabels;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// One rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// Which series the rule applies to.
    #[serde(rename = "match")]
    pub matcher: Matcher,
    /// The detector for matching series (default: the processor's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detector: Option<DetectorConfig>,
    /// The baseline settings for matching series (default: the processor's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineConfig>,
    /// `accept_after` for matching series (default: the processor's).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "humantime_serde")]
    pub accept_after: Option<Duration>,
    /// `min_change` for matching series (default: the processor's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_change: Option<MinChange>,
}

impl RuleConfig {
    pub(super) fn validate(&self, at: &str) -> Vec<FieldError> {
        let mut errors = self
            .detector
            .as_ref()
            .map_or_else(Vec::new, |d| d.validate(&format!("{at}.detector")));
        if let Some(m) = &self.min_change {
            errors.extend(m.validate(&format!("{at}.min_change")));
        }
        if self.matcher.metric.is_none() && self.matcher.labels.is_empty() {
            errors.push(FieldError::new(
                format!("{at}.match"),
                "matches every series: give a `metric` glob or `labels`, or change the processor's defaults instead",
            ));
        }
        errors
    }
}

/// `match:`: a metric-name glob and label values (globs too); all must match.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Matcher {
    /// Metric name glob (`*` any run of characters, `?` one character).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<String>,
    /// Label name → value glob.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

impl Matcher {
    /// Whether a series matches.
    pub fn matches(&self, s: &SeriesLabels) -> bool {
        self.metric.as_deref().is_none_or(|g| glob(g, &s.metric))
            && self.labels.iter().all(|(k, g)| s.get(k).is_some_and(|v| glob(g, v)))
    }
}

/// Glob match with `*` and `?`, iterative with one backtrack point (linear time).
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// What a series is watched with, resolved from config once.
#[derive(Debug, Clone)]
pub struct Profile {
    /// The scalar detector and its parameters (never `histogram`).
    pub detector: DetectorConfig,
    /// The parameters of distribution drift, for histogram series.
    pub histogram: HistogramConfig,
    /// Baseline constants.
    pub baseline: BaselineParams,
    /// Event-time nanoseconds after which a drift is accepted (0: never).
    pub accept_after: u64,
    /// How large a change must be to matter.
    pub min_change: MinChange,
}

/// The scalar detector and the histogram parameters a configured detector gives: the
/// one it names, and the fallback for the other kind.
fn split(
    detector: &DetectorConfig,
    scalar: &DetectorConfig,
    histogram: &HistogramConfig,
) -> (DetectorConfig, HistogramConfig) {
    match detector {
        DetectorConfig::Histogram(h) => (scalar.clone(), h.clone()),
        d => (d.clone(), histogram.clone()),
    }
}

/// The rules in order, then the default.
#[derive(Debug, Clone)]
pub struct Profiles {
    matchers: Vec<Matcher>,
    profiles: Vec<Profile>,
}

impl Profiles {
    /// Resolves the processor's config.
    pub fn new(c: &DriftConfig) -> Self {
        // A rule names one detector: the other kind of series keeps the processor's.
        let (default_scalar, default_histogram) = split(&c.detector, &DetectorConfig::default(), &Default::default());
        let profile = |detector: &DetectorConfig, baseline: &BaselineConfig, accept: Duration, min_change| {
            let (detector, histogram) = split(detector, &default_scalar, &default_histogram);
            Profile {
                detector,
                histogram,
                baseline: BaselineParams::from(baseline),
                accept_after: u64::try_from(accept.as_nanos()).unwrap_or(u64::MAX),
                min_change,
            }
        };
        let mut profiles: Vec<Profile> = c
            .rules
            .iter()
            .map(|r| {
                profile(
                    r.detector.as_ref().unwrap_or(&c.detector),
                    r.baseline.as_ref().unwrap_or(&c.baseline),
                    r.accept_after.unwrap_or(c.accept_after),
                    r.min_change.unwrap_or(c.min_change),
                )
            })
            .collect();
        profiles.push(profile(&c.detector, &c.baseline, c.accept_after, c.min_change));
        Profiles {
            matchers: c.rules.iter().map(|r| r.matcher.clone()).collect(),
            profiles,
        }
    }

    /// The index of the profile for a new series.
    pub fn index_for(&self, s: &SeriesLabels) -> u16 {
        let i = self
            .matchers
            .iter()
            .position(|m| m.matches(s))
            .unwrap_or(self.matchers.len());
        u16::try_from(i).unwrap_or(u16::MAX)
    }

    /// A profile by index (the default for an index past the end).
    pub fn get(&self, i: u16) -> &Profile {
        let last = self.profiles.len() - 1;
        &self.profiles[usize::from(i).min(last)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("http_*_seconds", "http_request_seconds"));
        assert!(glob("*", ""));
        assert!(glob("a?c", "abc"));
        assert!(!glob("a?c", "ac"));
        assert!(glob("*.*.*", "a.b.c"));
        assert!(!glob("latency", "latency_ms"));
        assert!(glob("*ms", "latency_ms"));
    }

    #[test]
    fn the_first_matching_rule_wins_and_unmatched_series_get_the_default() {
        let c: DriftConfig = serde_yaml::from_str(
            "rules:\n  - match: {metric: 'queue_*', labels: {env: prod}}\n    detector: {type: cusum}\n  - match: {metric: 'queue_*'}\n    detector: {type: zscore}\n",
        )
        .unwrap();
        let p = Profiles::new(&c);
        let series = |m: &str, env: &str| SeriesLabels::new(m, vec![("env".into(), env.into())]);
        let kind = |s: &SeriesLabels| match p.get(p.index_for(s)).detector {
            DetectorConfig::Auto(_) => "auto",
            DetectorConfig::Zscore(_) => "zscore",
            DetectorConfig::Cusum(_) => "cusum",
            _ => "other",
        };
        assert_eq!(kind(&series("queue_depth", "prod")), "cusum");
        assert_eq!(kind(&series("queue_depth", "dev")), "zscore");
        assert_eq!(kind(&series("latency", "prod")), "auto");
    }

    #[test]
    fn a_histogram_detector_sets_histogram_parameters_and_leaves_scalar_series_the_default() {
        let c: DriftConfig = serde_yaml::from_str(
            "detector: {type: zscore}\nrules:\n  - match: {metric: 'rpc_*'}\n    detector: {type: histogram, enter_psi: 0.2}\n  - match: {metric: 'queue_*'}\n    detector: {type: cusum}\n",
        )
        .unwrap();
        let p = Profiles::new(&c);
        let defaults = HistogramConfig::default();
        assert!(matches!(p.get(0).detector, DetectorConfig::Zscore(_)));
        assert_eq!(p.get(0).histogram.enter_psi, 0.2);
        assert!(matches!(p.get(1).detector, DetectorConfig::Cusum(_)));
        assert_eq!(p.get(1).histogram, defaults);
        assert!(matches!(p.get(2).detector, DetectorConfig::Zscore(_)));
        assert_eq!(p.get(2).histogram, defaults);

        // As the processor's default: every histogram's parameters, scalar series on auto.
        let c: DriftConfig = serde_yaml::from_str(
            "detector: {type: histogram, min_count: 5}\nrules:\n  - match: {metric: 'queue_*'}\n    detector: {type: cusum}\n",
        )
        .unwrap();
        let p = Profiles::new(&c);
        assert!(matches!(p.get(0).detector, DetectorConfig::Cusum(_)));
        assert_eq!(p.get(0).histogram.min_count, 5);
        assert!(matches!(p.get(1).detector, DetectorConfig::Auto(_)));
        assert_eq!(p.get(1).histogram.min_count, 5);
    }
}
