//! What decoding a request did: points accepted, and why others were refused (the
//! OTLP `partial_success` answer).

use driftd_core::bounds::OutOfBounds;
use std::fmt;

/// Why a data point was not fed on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The value is NaN.
    NaN,
    /// The value is +/- infinity.
    Infinite,
    /// `time_unix_nano` is 0.
    MissingTime,
    /// A number point with neither `as_double` nor `as_int`.
    NoValue,
    /// The point carries the no-recorded-value flag (a staleness marker).
    NoRecordedValue,
    /// The metric's name is empty.
    EmptyName,
    /// A histogram's sum is NaN, infinite or out of bounds; the point was still
    /// taken, without a mean.
    HistogramSumNotFinite,
    /// A histogram's buckets do not match its bounds, or its bounds are not finite and
    /// increasing.
    HistogramBucketsInvalid,
    /// A metric type driftd does not read yet.
    Unsupported(&'static str),
    /// The value is too large, or the time too far ahead of the clock.
    OutOfBounds(OutOfBounds),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::NaN => f.write_str("value is NaN"),
            Refusal::Infinite => f.write_str("value is infinite"),
            Refusal::MissingTime => f.write_str("missing time_unix_nano"),
            // JSON senders land here too with `"asDouble": "NaN"` or `null`, which
            // OTLP/JSON decoding leaves as no value.
            Refusal::NoValue => f.write_str("number data point has no numeric value"),
            Refusal::NoRecordedValue => f.write_str("data point is flagged as having no recorded value"),
            Refusal::EmptyName => f.write_str("metric name is empty"),
            Refusal::HistogramSumNotFinite => {
                f.write_str("histogram sum is NaN, infinite or beyond ±1e100 (the point was taken without its mean)")
            }
            Refusal::HistogramBucketsInvalid => {
                f.write_str("histogram buckets are not one more than its increasing finite bounds")
            }
            Refusal::Unsupported(kind) => write!(f, "{kind} metrics are not supported yet"),
            Refusal::OutOfBounds(why) => why.fmt(f),
        }
    }
}

/// What decoding one request did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DecodeSummary {
    /// Points appended (a histogram data point gives up to three).
    pub accepted: u64,
    /// Data points refused.
    pub refused: u64,
    /// The first refusal, with the metric it hit, for OTLP `partial_success`.
    pub first_refusal: Option<String>,
}

impl DecodeSummary {
    pub(super) fn refuse(&mut self, metric: &str, reason: Refusal, points: usize) {
        if points == 0 {
            return;
        }
        self.refused += points as u64;
        if self.first_refusal.is_none() {
            self.first_refusal = Some(if metric.is_empty() {
                reason.to_string()
            } else {
                format!("{reason} (metric `{metric}`)")
            });
        }
    }

    /// The OTLP `partial_success.error_message`: how many were refused and the first reason.
    pub fn error_message(&self) -> String {
        let first = self.first_refusal.as_deref().unwrap_or("no reason recorded");
        format!("{} data point(s) refused; first: {first}", self.refused)
    }
}
