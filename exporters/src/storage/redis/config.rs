//! `storage: {backend: redis}`.

use crate::connection_url::ConnectionUrl;
use driftd_core::config::FieldError;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Settings of the Redis store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisConfig {
    /// `redis://[user:password@]host:port[/db]` (or `rediss://` for TLS is not built in).
    #[serde(default = "RedisConfig::default_url")]
    pub url: ConnectionUrl,
    /// Prepended to every key, so several driftd (or other apps) can share a server.
    #[serde(default = "RedisConfig::default_prefix")]
    pub key_prefix: String,
    /// Events, statuses and checkpoints older than this are removed.
    #[serde(default = "crate::storage::default_retention", with = "humantime_serde")]
    pub retention: Duration,
    /// How long one command may take before the store counts as unavailable.
    #[serde(default = "RedisConfig::default_timeout", with = "humantime_serde")]
    pub timeout: Duration,
}

impl RedisConfig {
    fn default_url() -> ConnectionUrl {
        ConnectionUrl::new("redis://127.0.0.1:6379")
    }
    fn default_prefix() -> String {
        "driftd:".to_string()
    }
    fn default_timeout() -> Duration {
        Duration::from_secs(5)
    }

    /// Rules serde cannot express.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if !matches!(self.url.scheme().as_deref(), Some("redis" | "redis+unix" | "unix")) {
            errors.push(FieldError::new(
                "url",
                format!("`{}` is not a Redis URL: use redis://host:6379", self.url),
            ));
        }
        if self.retention.is_zero() {
            errors.push(FieldError::new(
                "retention",
                "retention must be longer than 0s, e.g. 7d",
            ));
        }
        if self.timeout.is_zero() {
            errors.push(FieldError::new("timeout", "timeout must be longer than 0s, e.g. 5s"));
        }
        errors
    }
}

impl Default for RedisConfig {
    fn default() -> Self {
        RedisConfig {
            url: Self::default_url(),
            key_prefix: Self::default_prefix(),
            retention: crate::storage::default_retention(),
            timeout: Self::default_timeout(),
        }
    }
}
