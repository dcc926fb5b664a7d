//! `storage: {backend: timescale}`.

use crate::connection_url::ConnectionUrl;
use crate::sql::valid_prefix;
use driftd_core::config::FieldError;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Settings of the PostgreSQL / TimescaleDB store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimescaleConfig {
    /// `postgres://user[:password]@host[:port]/database[?sslmode=...]`; the user and
    /// database come from the URL (PostgreSQL's own defaults otherwise).
    #[serde(default = "TimescaleConfig::default_url")]
    pub url: ConnectionUrl,
    /// Prepended to the table names (`driftd_events`, `driftd_status`,
    /// `driftd_checkpoints`): letters, digits and `_`.
    #[serde(default = "TimescaleConfig::default_prefix")]
    pub table_prefix: String,
    /// Events, statuses and checkpoints older than this are removed (by a TimescaleDB
    /// retention policy on events when the extension is there, else by DELETE).
    #[serde(default = "crate::storage::default_retention", with = "humantime_serde")]
    pub retention: Duration,
    /// Most connections held open.
    #[serde(default = "TimescaleConfig::default_pool_size")]
    pub max_connections: u32,
}

impl TimescaleConfig {
    fn default_url() -> ConnectionUrl {
        ConnectionUrl::new("postgres://postgres@127.0.0.1:5432/postgres")
    }
    fn default_prefix() -> String {
        "driftd_".to_string()
    }
    fn default_pool_size() -> u32 {
        5
    }

    /// Rules serde cannot express.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if !matches!(self.url.scheme().as_deref(), Some("postgres" | "postgresql")) {
            errors.push(FieldError::new(
                "url",
                format!(
                    "`{}` is not a PostgreSQL URL: use postgres://user@host:5432/database",
                    self.url
                ),
            ));
        }
        if !valid_prefix(&self.table_prefix) {
            errors.push(FieldError::new(
                "table_prefix",
                "use letters, digits and `_` (not starting with a digit), at most 40",
            ));
        }
        if self.retention.is_zero() {
            errors.push(FieldError::new(
                "retention",
                "retention must be longer than 0s, e.g. 7d",
            ));
        }
        if self.max_connections == 0 {
            errors.push(FieldError::new("max_connections", "at least 1"));
        }
        errors
    }
}

impl Default for TimescaleConfig {
    fn default() -> Self {
        TimescaleConfig {
            url: Self::default_url(),
            table_prefix: Self::default_prefix(),
            retention: crate::storage::default_retention(),
            max_connections: Self::default_pool_size(),
        }
    }
}
