//! Config errors that name the YAML path and line.

use super::lines::Location;
use std::fmt;

/// One problem in a config file.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    /// Dotted YAML path (`receivers.otlp.protocols.grpc.endpoint`); empty for the
    /// document as a whole.
    pub path: String,
    /// Where the path (or its nearest existing parent) is in the file.
    pub location: Option<Location>,
    /// What is wrong and what to change.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() { "(document)" } else { &self.path };
        match self.location {
            Some(l) => write!(f, "{path} (line {}, column {}): {}", l.line, l.column, self.message),
            None => write!(f, "{path}: {}", self.message),
        }
    }
}

/// Every problem found in one config file.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigErrors {
    /// The file (or `<embedded default>`).
    pub source: String,
    /// The problems, in document order where known.
    pub errors: Vec<ConfigError>,
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.errors.len();
        write!(f, "{} has {n} error{}:", self.source, if n == 1 { "" } else { "s" })?;
        for e in &self.errors {
            write!(f, "\n  - {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}
