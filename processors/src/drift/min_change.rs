//! `min_change:`: how large a change must be to matter. A drift needs statistical
//! evidence (the detector) and practical size: its level or its spread must have moved
//! by at least `absolute`, and by at least `relative` times the series' level. So a
//! near-constant gauge does not alarm on noise in its last digit, however significant
//! that noise is statistically.

use driftd_core::config::FieldError;
use serde::{Deserialize, Serialize};

/// `min_change:` settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MinChange {
    /// Fraction of the baseline level (|mean|) a change must reach: 0.03 is 3%.
    #[serde(default = "MinChange::default_relative")]
    pub relative: f64,
    /// A change must also be at least this large, in the metric's own units.
    #[serde(default)]
    pub absolute: f64,
}

impl MinChange {
    /// 3%: the largest round value that keeps the NAB score (a bar of 5% loses one of
    /// its windows: QUALITY.md).
    fn default_relative() -> f64 {
        0.03
    }

    /// The smallest change that matters for a series whose level is `level`.
    pub fn at(&self, level: f64) -> f64 {
        self.absolute.max(self.relative * level.abs())
    }

    /// Cross-field rules, paths relative to `at`.
    pub fn validate(&self, at: &str) -> Vec<FieldError> {
        [("relative", self.relative), ("absolute", self.absolute)]
            .into_iter()
            .filter(|(_, v)| !(v.is_finite() && *v >= 0.0))
            .map(|(name, v)| FieldError::new(format!("{at}.{name}"), format!("must be a number >= 0, got {v}")))
            .collect()
    }
}

impl Default for MinChange {
    fn default() -> Self {
        MinChange {
            relative: Self::default_relative(),
            absolute: 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_larger_of_absolute_and_relative_applies() {
        let m = MinChange {
            relative: 0.05,
            absolute: 2.0,
        };
        assert_eq!(m.at(100.0), 5.0);
        assert_eq!(m.at(-10.0), 2.0);
        assert_eq!(MinChange::default().at(0.0), 0.0);
    }

    #[test]
    fn negative_or_infinite_sizes_are_refused() {
        let m: MinChange = serde_yaml::from_str("{relative: -1, absolute: .inf}").unwrap();
        let errors = m.validate("min_change");
        assert_eq!(errors.len(), 2, "{errors:?}");
    }
}
