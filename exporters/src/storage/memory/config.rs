//! `storage: {backend: memory}`.

use serde::{Deserialize, Serialize};
use std::num::NonZeroUsize;
use std::time::Duration;

/// Settings of the in-memory store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryConfig {
    /// Events kept; past this the oldest (by arrival) are dropped.
    #[serde(default = "MemoryConfig::default_max_events")]
    pub max_events: NonZeroUsize,
    /// Events, statuses and checkpoints older than this are removed.
    #[serde(default = "crate::storage::default_retention", with = "humantime_serde")]
    pub retention: Duration,
}

impl MemoryConfig {
    fn default_max_events() -> NonZeroUsize {
        NonZeroUsize::new(100_000).unwrap_or(NonZeroUsize::MIN)
    }
}

impl Default for MemoryConfig {
    fn default() -> Self {
        MemoryConfig {
            max_events: Self::default_max_events(),
            retention: crate::storage::default_retention(),
        }
    }
}
