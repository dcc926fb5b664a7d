//! `exporters.sql`.

use super::valid_prefix;
use crate::connection_url::ConnectionUrl;
use driftd_core::config::FieldError;
use driftd_core::queue::QueueSettings;
use serde::{Deserialize, Serialize};

/// Where drift events (and incidents, and with `store_points` raw points) are written
/// as SQL rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqlConfig {
    /// The database, by scheme: `postgres://user@host:5432/db`,
    /// `mysql://user@host:3306/db` (MySQL and MariaDB), or `sqlite://path/file.db`
    /// (created when missing).
    #[serde(default = "SqlConfig::default_url")]
    pub url: ConnectionUrl,
    /// Prepended to the table names (`driftd_events`, `driftd_incidents`,
    /// `driftd_points`, ...: the one schema the SQL storage backends use too).
    #[serde(default = "SqlConfig::default_prefix")]
    pub table_prefix: String,
    /// Most connections held open.
    #[serde(default = "SqlConfig::default_pool_size")]
    pub max_connections: u32,
    /// Also store every raw point (`<prefix>points`: series id, time in ns, value); the
    /// exporter then takes metrics too. Points have their own queue, sized and retried
    /// by `sending_queue`, that drops (and counts) points when the database falls behind.
    #[serde(default)]
    pub store_points: bool,
    /// Queue and retry settings.
    #[serde(default)]
    pub sending_queue: QueueSettings,
}

impl SqlConfig {
    fn default_url() -> ConnectionUrl {
        ConnectionUrl::new("sqlite://driftd-events.db")
    }
    fn default_prefix() -> String {
        "driftd_".to_string()
    }
    fn default_pool_size() -> u32 {
        4
    }

    /// Rules serde cannot express.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if super::Dialect::of(&self.url).is_none() {
            errors.push(FieldError::new(
                "url",
                format!(
                    "`{}` names no database driftd writes to: use postgres://, mysql:// or sqlite://",
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
        if self.max_connections == 0 {
            errors.push(FieldError::new("max_connections", "at least 1"));
        }
        errors
    }
}

impl Default for SqlConfig {
    fn default() -> Self {
        SqlConfig {
            url: Self::default_url(),
            table_prefix: Self::default_prefix(),
            max_connections: Self::default_pool_size(),
            store_points: false,
            sending_queue: QueueSettings::default(),
        }
    }
}
