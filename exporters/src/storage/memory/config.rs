//! `storage: {backend: memory}`.

use serde::{Deserialize, Serialize};
use std::num::NonZeroUsize;

/// Settings of the in-memory event history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryConfig {
    /// Events kept; past this the oldest (by arrival) are dropped.
    #[serde(default = "MemoryConfig::default_max_events")]
    pub max_events: NonZeroUsize,
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
        }
    }
}
