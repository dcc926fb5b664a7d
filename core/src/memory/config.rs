//! `service.memory_limiter`: the limits, as configured or derived from the memory
//! driftd may use.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// `service.memory_limiter`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryLimiterConfig {
    /// How often resident memory is read. Short, because a burst of new series can
    /// add hundreds of MiB a second.
    #[serde(default = "MemoryLimiterConfig::default_check_interval", with = "humantime_serde")]
    pub check_interval: Duration,
    /// The hard limit, in MiB. Unset: `limit_percentage` of the memory driftd may use
    /// (its cgroup's limit, else the machine's memory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_mib: Option<u64>,
    /// The hard limit as a percentage of the memory driftd may use, when `limit_mib`
    /// is unset.
    #[serde(default = "MemoryLimiterConfig::default_limit_percentage")]
    pub limit_percentage: u8,
    /// How far below the hard limit the soft limit is, in MiB: room for the growth
    /// between two checks. Unset: `spike_limit_percentage` of the hard limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spike_limit_mib: Option<u64>,
    /// The distance between the limits as a percentage of the hard limit, when
    /// `spike_limit_mib` is unset.
    #[serde(default = "MemoryLimiterConfig::default_spike_limit_percentage")]
    pub spike_limit_percentage: u8,
}

impl MemoryLimiterConfig {
    fn default_check_interval() -> Duration {
        Duration::from_millis(100)
    }
    fn default_limit_percentage() -> u8 {
        80
    }
    fn default_spike_limit_percentage() -> u8 {
        20
    }

    /// The fields that are wrong, by name.
    pub fn problems(&self) -> Vec<(&'static str, &'static str)> {
        let mut problems = Vec::new();
        if self.check_interval.is_zero() {
            problems.push(("check_interval", "must be more than 0s"));
        }
        if self.limit_mib == Some(0) {
            problems.push(("limit_mib", "must be more than 0"));
        }
        if !(1..=100).contains(&self.limit_percentage) {
            problems.push(("limit_percentage", "must be between 1 and 100"));
        }
        if self.spike_limit_percentage >= 100 {
            problems.push(("spike_limit_percentage", "must be less than 100"));
        }
        if let (Some(spike), Some(limit)) = (self.spike_limit_mib, self.limit_mib) {
            if spike >= limit {
                problems.push(("spike_limit_mib", "must be less than limit_mib"));
            }
        }
        problems
    }

    /// The limits in bytes, given the memory driftd may use (`None`: unknown).
    pub(super) fn limits(&self, available: Option<u64>) -> Option<Limits> {
        const MIB: u64 = 1 << 20;
        let hard = match self.limit_mib {
            Some(mib) => mib.saturating_mul(MIB),
            None => available? / 100 * u64::from(self.limit_percentage),
        };
        let spike = match self.spike_limit_mib {
            Some(mib) => mib.saturating_mul(MIB).min(hard),
            None => hard / 100 * u64::from(self.spike_limit_percentage),
        };
        Some(Limits {
            soft: hard - spike,
            hard,
        })
    }
}

impl Default for MemoryLimiterConfig {
    fn default() -> Self {
        MemoryLimiterConfig {
            check_interval: Self::default_check_interval(),
            limit_mib: None,
            limit_percentage: Self::default_limit_percentage(),
            spike_limit_mib: None,
            spike_limit_percentage: Self::default_spike_limit_percentage(),
        }
    }
}

/// The two limits, in bytes of resident memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Limits {
    pub soft: u64,
    pub hard: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_come_from_the_config_or_the_machine() {
        let config = MemoryLimiterConfig::default();
        // 80% of 10 GiB, and the soft limit 20% below that.
        let l = config.limits(Some(10 << 30)).unwrap();
        assert_eq!(l.hard, (10u64 << 30) / 100 * 80);
        assert_eq!(l.soft, l.hard - l.hard / 100 * 20);
        assert_eq!(config.limits(None), None, "no machine size, no limit");
        let set = MemoryLimiterConfig {
            limit_mib: Some(1000),
            spike_limit_mib: Some(200),
            ..config
        };
        assert_eq!(
            set.limits(None),
            Some(Limits {
                soft: 800 << 20,
                hard: 1000 << 20
            })
        );
        assert!(set.problems().is_empty());
    }

    #[test]
    fn nonsense_settings_are_named() {
        let bad = MemoryLimiterConfig {
            check_interval: Duration::ZERO,
            limit_mib: Some(100),
            limit_percentage: 0,
            spike_limit_mib: Some(100),
            spike_limit_percentage: 100,
        };
        let fields: Vec<_> = bad.problems().into_iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            [
                "check_interval",
                "limit_percentage",
                "spike_limit_percentage",
                "spike_limit_mib"
            ]
        );
    }
}
