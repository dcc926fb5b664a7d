//! `receivers.file`: which recorded file to read, and how.
//!
//! ```yaml
//! file:
//!   path: data/latency.csv
//!   format: auto          # csv | jsonl | auto (by extension: .csv; .jsonl, .ndjson, .json)
//!   metric: latency_ms    # metric name of lines that carry none (default: the file stem)
//!   labels: {env: prod}   # added to every series read from the file
//!   batch_size: 4096      # points handed to the pipeline per call
//! ```

use driftd_core::config::FieldError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

/// The file receiver's config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// The file to read.
    pub path: PathBuf,
    /// How its lines are written.
    #[serde(default)]
    pub format: FileFormat,
    /// Metric name of lines without a `metric` (or `series`) column or key; default:
    /// the file name without its extension (`nyc_taxi.csv` → `nyc_taxi`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<String>,
    /// Labels added to every series read from the file.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Points handed to the pipeline per call.
    #[serde(default = "FileConfig::default_batch_size")]
    pub batch_size: NonZeroUsize,
}

/// How a file's lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileFormat {
    /// From the extension: `.csv` is CSV; `.jsonl`, `.ndjson` and `.json` are JSON lines.
    #[default]
    Auto,
    /// CSV with a header line.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

impl FileFormat {
    /// The format a path's extension implies, if any.
    pub fn of_path(path: &Path) -> Option<FileFormat> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(FileFormat::Csv),
            "jsonl" | "ndjson" | "json" => Some(FileFormat::Jsonl),
            _ => None,
        }
    }
}

impl FileConfig {
    /// Reads `path` with every other setting at its default.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileConfig {
            path: path.into(),
            format: FileFormat::Auto,
            metric: None,
            labels: BTreeMap::new(),
            batch_size: Self::default_batch_size(),
        }
    }

    fn default_batch_size() -> NonZeroUsize {
        const BATCH: NonZeroUsize = NonZeroUsize::new(4096).unwrap();
        BATCH
    }

    /// The format to read: the configured one, or the one the extension implies.
    pub fn resolved_format(&self) -> Option<FileFormat> {
        match self.format {
            FileFormat::Auto => FileFormat::of_path(&self.path),
            f => Some(f),
        }
    }

    /// The metric name of lines that carry none.
    pub fn default_metric(&self) -> String {
        if let Some(m) = &self.metric {
            return m.clone();
        }
        self.path
            .file_stem()
            .and_then(|s| s.to_str())
            .filter(|s| !s.is_empty())
            .unwrap_or("value")
            .to_string()
    }

    /// Cross-field rules (no I/O: whether the file exists is checked when it is opened).
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if self.path.as_os_str().is_empty() {
            errors.push(FieldError::new("path", "the path is empty: name the file to read"));
        } else if self.resolved_format().is_none() {
            errors.push(FieldError::new(
                "format",
                format!(
                    "cannot tell the format of `{}` from its extension: set `format: csv` or `format: jsonl`",
                    self.path.display()
                ),
            ));
        }
        if self.metric.as_deref() == Some("") {
            errors.push(FieldError::new(
                "metric",
                "the metric name is empty: remove it or name one",
            ));
        }
        if self.labels.keys().any(String::is_empty) {
            errors.push(FieldError::new("labels", "a label name is empty"));
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use driftd_core::config::{parse_body, ParseError};

    fn parse(yaml: &str) -> Result<FileConfig, ParseError> {
        parse_body(serde_yaml::from_str(yaml).expect("YAML"))
    }

    #[test]
    fn defaults_and_format_by_extension() {
        let c = parse("path: /data/nyc_taxi.csv").unwrap();
        assert_eq!(c, FileConfig::new("/data/nyc_taxi.csv"));
        assert_eq!(c.resolved_format(), Some(FileFormat::Csv));
        assert_eq!(c.default_metric(), "nyc_taxi");
        assert!(c.validate().is_empty());
        assert_eq!(FileConfig::new("x.NDJSON").resolved_format(), Some(FileFormat::Jsonl));
        let c = parse("{path: points.txt, format: jsonl, metric: cpu, labels: {env: prod}, batch_size: 10}").unwrap();
        assert_eq!(c.resolved_format(), Some(FileFormat::Jsonl));
        assert_eq!(c.default_metric(), "cpu");
    }

    #[test]
    fn mistakes_name_their_field() {
        assert!(matches!(parse("{}"), Err(ParseError::Invalid { .. })));
        assert!(matches!(parse("{path: a.csv, formt: csv}"), Err(ParseError::Invalid { path, .. }) if path == "formt"));
        assert!(
            matches!(parse("{path: a.csv, batch_size: 0}"), Err(ParseError::Invalid { path, .. }) if path == "batch_size")
        );
        let paths = |yaml: &str| {
            parse(yaml)
                .unwrap()
                .validate()
                .into_iter()
                .map(|e| e.path)
                .collect::<Vec<_>>()
        };
        assert_eq!(paths("path: data.txt"), ["format"]);
        assert_eq!(paths("path: ''"), ["path"]);
        assert_eq!(
            paths("{path: a.csv, metric: '', labels: {'': x}}"),
            ["metric", "labels"]
        );
    }
}
