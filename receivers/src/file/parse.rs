//! Line parsing shared by both formats: a line of bytes in, a sample (series identity,
//! event time, value) or a [`LineError`] out. Pure functions over reused scratch
//! buffers, so they can be fuzzed and never allocate for a good line.

use super::config::FileFormat;
use super::csv::{self, CsvLayout, HeaderError};
use super::jsonl;
use driftd_core::model::LabelHash;
use driftd_core::time::{parse_timestamp, TimestampError};
use driftd_core::{SeriesId, SeriesLabels};
use thiserror::Error;

/// One parsed line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Identity of the series (metric name + labels).
    pub series: SeriesId,
    /// Event time, nanoseconds since the Unix epoch.
    pub time_unix_nano: u64,
    /// The measured value (finite).
    pub value: f64,
}

/// Why a line was skipped.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum LineError {
    /// The bytes are not UTF-8.
    #[error("the line is not UTF-8 text")]
    NotUtf8,
    /// Longer than the receiver reads as one line.
    #[error("the line is longer than {limit} bytes")]
    TooLong {
        /// The limit.
        limit: usize,
    },
    /// A CSV line with a different number of fields than its header.
    #[error("expected {expected} fields as in the header, found {found}")]
    FieldCount {
        /// Fields in the header.
        expected: usize,
        /// Fields on this line.
        found: usize,
    },
    /// A quoted CSV field with no closing quote (fields may not span lines).
    #[error("a quoted field is not closed (quoted fields may not span lines)")]
    UnclosedQuote,
    /// Something other than a comma after a closing quote.
    #[error("a quoted field has text after its closing quote")]
    TextAfterQuote,
    /// The timestamp did not parse.
    #[error("timestamp `{text}`: {reason}")]
    Timestamp {
        /// The timestamp as written (shortened).
        text: String,
        /// Why it was refused.
        reason: TimestampError,
    },
    /// The value is not a number within ±1e100 (`driftd_core::bounds`).
    #[error("value `{text}` is not a number within ±1e100")]
    Value {
        /// The value as written (shortened).
        text: String,
    },
    /// The metric name is empty.
    #[error("the metric name is empty")]
    EmptyMetric,
    /// A label also set by the receiver's `labels`, which would make two series one.
    #[error("label `{key}` is also set by the receiver's `labels`")]
    LabelClash {
        /// The key.
        key: String,
    },
    /// A JSON line that does not fit `{timestamp, metric?, value, labels?}`.
    #[error("{0}")]
    Json(String),
}

impl LineError {
    pub(crate) fn timestamp(text: &[u8], reason: TimestampError) -> Self {
        LineError::Timestamp {
            text: shorten(text),
            reason,
        }
    }

    pub(crate) fn value(text: &[u8]) -> Self {
        LineError::Value { text: shorten(text) }
    }
}

/// At most 40 characters of untrusted text, for an error message.
pub(crate) fn shorten(text: &[u8]) -> String {
    let text = String::from_utf8_lossy(text.trim_ascii());
    match text.char_indices().nth(40) {
        Some((i, _)) => format!("{}...", &text[..i]),
        None => text.into_owned(),
    }
}

/// Parses a value field: a decimal number within [`driftd_core::bounds`].
pub(crate) fn parse_value(text: &[u8]) -> Result<f64, LineError> {
    std::str::from_utf8(text.trim_ascii())
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|v| driftd_core::bounds::check_value(*v).is_ok())
        .ok_or_else(|| LineError::value(text))
}

/// What identifies every series of one file besides its own columns: the metric name
/// used when a line names none, and labels added to every series.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    default_metric: String,
    labels: Vec<(String, String)>,
    label_hash: LabelHash,
}

impl Identity {
    /// `default_metric` names series whose lines carry no metric; `labels` go on every
    /// series.
    pub fn new(default_metric: impl Into<String>, labels: Vec<(String, String)>) -> Self {
        let label_hash = LabelHash::of(labels.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        Identity {
            default_metric: default_metric.into(),
            labels,
            label_hash,
        }
    }

    /// The metric name of lines that carry none.
    pub fn default_metric(&self) -> &str {
        &self.default_metric
    }

    /// The hash of the labels added to every series.
    pub(crate) fn label_hash(&self) -> LabelHash {
        self.label_hash
    }

    /// Whether `key` is one of the labels added to every series.
    pub(crate) fn sets(&self, key: &str) -> bool {
        self.labels.iter().any(|(k, _)| k == key)
    }

    /// Labels of a series: these plus the line's own.
    pub(crate) fn series_labels(&self, metric: &str, own: Vec<(String, String)>) -> SeriesLabels {
        let mut labels = self.labels.clone();
        labels.extend(own);
        SeriesLabels::new(metric, labels)
    }
}

/// Buffers reused from line to line.
#[derive(Debug, Default)]
pub struct Scratch {
    pub(crate) fields: Vec<csv::Field>,
    pub(crate) text: String,
    pub(crate) last_time: LastTime,
}

/// The previous line's timestamp text and value: files of many series usually write
/// every series of one instant in a row, so most timestamps repeat the line before.
#[derive(Debug)]
pub(crate) struct LastTime {
    text: [u8; 40],
    len: usize,
    nanos: Option<u64>,
}

impl Default for LastTime {
    fn default() -> Self {
        LastTime {
            text: [0; 40],
            len: 0,
            nanos: None,
        }
    }
}

impl LastTime {
    /// Parses `text`, or reuses the previous result when it is the same text.
    pub(crate) fn parse(&mut self, text: &[u8]) -> Result<u64, LineError> {
        if let Some(nanos) = self.nanos.filter(|_| &self.text[..self.len] == text) {
            return Ok(nanos);
        }
        let nanos = parse_timestamp(text).map_err(|e| LineError::timestamp(text, e))?;
        if text.len() <= self.text.len() {
            self.text[..text.len()].copy_from_slice(text);
            self.len = text.len();
            self.nanos = Some(nanos);
        }
        Ok(nanos)
    }
}

/// How the lines of one file are read.
#[derive(Debug, Clone)]
pub struct LineParser {
    layout: Option<CsvLayout>,
    identity: Identity,
}

impl LineParser {
    /// A parser for a CSV file with this header line.
    pub fn csv(header: &[u8], identity: Identity) -> Result<Self, HeaderError> {
        let layout = CsvLayout::from_header(header, &identity)?;
        Ok(LineParser {
            layout: Some(layout),
            identity,
        })
    }

    /// A parser for JSON lines.
    pub fn jsonl(identity: Identity) -> Self {
        LineParser { layout: None, identity }
    }

    /// The format it reads.
    pub fn format(&self) -> FileFormat {
        match self.layout {
            Some(_) => FileFormat::Csv,
            None => FileFormat::Jsonl,
        }
    }

    /// Parses one line (without its line ending).
    pub fn parse(&self, line: &[u8], scratch: &mut Scratch) -> Result<Sample, LineError> {
        match &self.layout {
            Some(layout) => csv::parse_line(layout, &self.identity, line, scratch),
            None => jsonl::parse_line(&self.identity, line),
        }
    }

    /// The labels of the series of a line that [`LineParser::parse`] accepted.
    pub fn labels(&self, line: &[u8]) -> Result<SeriesLabels, LineError> {
        match &self.layout {
            Some(layout) => csv::line_labels(layout, &self.identity, line),
            None => jsonl::line_labels(&self.identity, line),
        }
    }
}
