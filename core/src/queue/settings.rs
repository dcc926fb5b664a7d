//! `sending_queue` settings of pushed exporters, and the backoff they retry with.

use serde::{Deserialize, Serialize};
use std::num::NonZeroUsize;
use std::time::Duration;

/// `sending_queue` and `retry_on_failure` of a pushed exporter.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct QueueSettings {
    /// Events held while the sink is slow; past this, new events are dropped and counted.
    #[serde(default = "QueueSettings::default_size")]
    pub queue_size: NonZeroUsize,
    /// Most events handed to the sink in one call.
    #[serde(default = "QueueSettings::default_batch")]
    pub batch_size: NonZeroUsize,
    /// Retry transient failures with exponential backoff.
    #[serde(default)]
    pub retry_on_failure: RetrySettings,
}

impl QueueSettings {
    fn default_size() -> NonZeroUsize {
        NonZeroUsize::new(10_000).expect("non-zero")
    }
    fn default_batch() -> NonZeroUsize {
        NonZeroUsize::new(512).expect("non-zero")
    }
}

impl Default for QueueSettings {
    fn default() -> Self {
        QueueSettings {
            queue_size: Self::default_size(),
            batch_size: Self::default_batch(),
            retry_on_failure: RetrySettings::default(),
        }
    }
}

/// Exponential backoff for transient export failures.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RetrySettings {
    /// Retry at all.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// First wait.
    #[serde(default = "RetrySettings::initial", with = "humantime_serde")]
    pub initial_interval: Duration,
    /// Longest wait.
    #[serde(default = "RetrySettings::max", with = "humantime_serde")]
    pub max_interval: Duration,
    /// Give up on a batch after this long (it is then dropped and counted).
    #[serde(default = "RetrySettings::elapsed", with = "humantime_serde")]
    pub max_elapsed_time: Duration,
}

fn yes() -> bool {
    true
}

impl RetrySettings {
    fn initial() -> Duration {
        Duration::from_secs(1)
    }
    fn max() -> Duration {
        Duration::from_secs(30)
    }
    fn elapsed() -> Duration {
        Duration::from_secs(300)
    }

    /// The wait before retry number `attempt` (from 0), with ±25% jitter so many
    /// exporters do not retry in step.
    pub fn backoff(&self, attempt: u32, jitter: f64) -> Duration {
        let base = self.initial_interval.as_secs_f64() * 2f64.powi(attempt.min(30) as i32);
        let capped = base.min(self.max_interval.as_secs_f64());
        Duration::from_secs_f64(capped * (0.75 + 0.5 * jitter.clamp(0.0, 1.0)))
    }
}

impl Default for RetrySettings {
    fn default() -> Self {
        RetrySettings {
            enabled: true,
            initial_interval: Self::initial(),
            max_interval: Self::max(),
            max_elapsed_time: Self::elapsed(),
        }
    }
}
