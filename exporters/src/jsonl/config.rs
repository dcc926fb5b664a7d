//! `exporters.jsonl`.

use driftd_core::config::FieldError;
use driftd_core::queue::QueueSettings;
use serde::{Deserialize, Serialize};

/// Where drift events are written as JSON lines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonlConfig {
    /// `stdout`, or a file that events are appended to (created when missing).
    #[serde(default = "JsonlConfig::default_path")]
    pub path: String,
    /// Queue and retry settings.
    #[serde(default)]
    pub sending_queue: QueueSettings,
}

impl JsonlConfig {
    fn default_path() -> String {
        STDOUT.to_string()
    }

    /// Rules serde cannot express.
    pub fn validate(&self) -> Vec<FieldError> {
        if self.path.trim().is_empty() {
            return vec![FieldError::new(
                "path",
                "the path is empty: give a file path, or `stdout`",
            )];
        }
        Vec::new()
    }
}

impl Default for JsonlConfig {
    fn default() -> Self {
        JsonlConfig {
            path: Self::default_path(),
            sending_queue: QueueSettings::default(),
        }
    }
}

/// The `path` that means standard output.
pub const STDOUT: &str = "stdout";
