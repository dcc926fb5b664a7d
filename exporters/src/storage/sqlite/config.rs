//! `storage: {backend: sqlite}`.

use driftd_core::config::FieldError;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Settings of the embedded SQLite store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqliteConfig {
    /// The database file; created with its tables when missing.
    #[serde(default = "SqliteConfig::default_path")]
    pub path: String,
    /// Events, statuses and checkpoints older than this are removed.
    #[serde(default = "crate::storage::default_retention", with = "humantime_serde")]
    pub retention: Duration,
}

impl SqliteConfig {
    fn default_path() -> String {
        "driftd.db".to_string()
    }

    /// Rules serde cannot express.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if self.path.trim().is_empty() {
            errors.push(FieldError::new(
                "path",
                "the path is empty: give a database file, e.g. driftd.db",
            ));
        }
        if self.retention.is_zero() {
            errors.push(FieldError::new(
                "retention",
                "retention must be longer than 0s, e.g. 7d",
            ));
        }
        errors
    }
}

impl Default for SqliteConfig {
    fn default() -> Self {
        SqliteConfig {
            path: Self::default_path(),
            retention: crate::storage::default_retention(),
        }
    }
}
