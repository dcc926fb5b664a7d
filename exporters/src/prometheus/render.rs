//! The exposition of drift state, as Prometheus text (0.0.4) or OpenMetrics 1.0 (what
//! the scraper asks for): a pure function over snapshots.
//!
//! Built for 100,000 series per scrape: every series' label block is sanitised and
//! escaped once, into one buffer, and then copied into each family; numbers are
//! formatted on the stack; the output is pre-sized chunks, sent as they fill.

use driftd_core::view::{EntitySnapshot, SeriesSnapshot};
use driftd_core::SeriesLabels;
use std::ops::Range;

use super::format::push_recorded_as_openmetrics;
pub use super::format::Format;

/// Everything one scrape shows.
pub struct Exposition<'a> {
    /// What the global `metrics` recorder rendered (driftd's own telemetry).
    pub recorded: &'a str,
    /// Series tracked across all series tables.
    pub series_tracked: usize,
    /// Points processed across all series tables.
    pub points_processed: u64,
    /// The series to export gauges for (empty when `series_metrics` is off).
    pub series: &'a [SeriesSnapshot],
    /// Every entity, for `driftd_entity_health`.
    pub entities: &'a [EntitySnapshot],
    /// Which of the two formats to write.
    pub format: Format,
}

const ENTITY_HEALTH: &str = "driftd_entity_health";

/// A sample value: integers are printed exactly, floats in their shortest form.
#[derive(Copy, Clone)]
enum Sample {
    Float(f64),
    Int(u64),
}

/// One metric family with one sample per series.
struct Family {
    name: &'static str,
    help: &'static str,
    kind: &'static str,
    value: fn(&SeriesSnapshot) -> Option<Sample>,
}

const SERIES_FAMILIES: [Family; 5] = [
    Family {
        name: "driftd_series_state",
        help: "Drift state of the series: 0 INSUFFICIENT_DATA, 1 STABLE, 2 DRIFT_DETECTED.",
        kind: "gauge",
        value: |s| Some(Sample::Float(s.state.gauge_value())),
    },
    Family {
        name: "driftd_series_score",
        help: "Latest z-score of the series against its baseline (0 while learning).",
        kind: "gauge",
        value: |s| Some(Sample::Float(s.last_score)),
    },
    Family {
        name: "driftd_series_baseline_mean",
        help: "Mean of the series' learned baseline.",
        kind: "gauge",
        value: |s| s.baseline.map(|b| Sample::Float(b.mean)),
    },
    Family {
        name: "driftd_series_baseline_stddev",
        help: "Standard deviation of the series' learned baseline.",
        kind: "gauge",
        value: |s| s.baseline.map(|b| Sample::Float(b.stddev)),
    },
    Family {
        name: "driftd_series_samples_total",
        help: "Samples seen for the series since it appeared.",
        kind: "counter",
        value: |s| Some(Sample::Int(s.sample_count)),
    },
];

/// Longest text of one sample line besides the name and labels: a space, a value
/// (ryu and itoa print at most 24 and 20 characters) and a newline.
const VALUE_WIDTH: usize = 26;

/// Renders a whole scrape into one string.
pub fn render(e: &Exposition<'_>) -> String {
    let mut whole = String::new();
    render_chunks(e, usize::MAX, &mut |chunk| match whole.is_empty() {
        true => whole = chunk,
        false => whole.push_str(&chunk),
    });
    whole
}

/// Renders a scrape as a series of chunks of about `chunk` bytes (whole lines), handed
/// to `emit` as they fill, so a server can send one while the next renders and never
/// holds (or maps fresh pages for) the whole text: 100,000 series are about 40 MB.
pub fn render_chunks(e: &Exposition<'_>, chunk: usize, emit: &mut dyn FnMut(String)) {
    let labels = LabelBlocks::of(e.series);
    let n = e.series.len();
    let whole: usize = SERIES_FAMILIES
        .iter()
        .map(|f| n * (f.name.len() + VALUE_WIDTH) + labels.text.len() + f.help.len() + 64)
        .sum::<usize>()
        + e.recorded.len()
        + 1024;
    // Room for a chunk and the line that overflows it.
    let capacity = whole.min(chunk.saturating_add(4096));
    let mut out = String::with_capacity(capacity);
    let mut flush = |out: &mut String, last: bool| {
        if last {
            emit(std::mem::take(out));
        } else if out.len() >= chunk {
            emit(std::mem::replace(out, String::with_capacity(capacity)));
        }
    };

    match e.format {
        Format::Text => out.push_str(e.recorded),
        Format::OpenMetrics => push_recorded_as_openmetrics(&mut out, e.recorded),
    }
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    // A family the recorder already exposes (someone recorded it through `metrics`) is
    // not written again: a family twice makes the whole scrape invalid.
    let totals = [
        (
            "driftd_series_tracked",
            "Series tracked by the drift processors.",
            "gauge",
            Sample::Int(e.series_tracked as u64),
        ),
        (
            "driftd_points_processed_total",
            "Points processed by the drift processors since start.",
            "counter",
            Sample::Int(e.points_processed),
        ),
    ];
    for (name, help, kind, value) in totals {
        if !exposes(e.recorded, name) {
            push_header(&mut out, e.format, name, help, kind);
            out.push_str(name);
            push_sample(&mut out, value);
        }
    }
    if !e.entities.is_empty() && !exposes(e.recorded, ENTITY_HEALTH) {
        push_header(
            &mut out,
            e.format,
            ENTITY_HEALTH,
            "Health of the entity, 0 to 100: 100 when every signal agrees with its baseline.",
            "gauge",
        );
        for entity in e.entities {
            out.push_str(ENTITY_HEALTH);
            out.push_str("{entity=\"");
            push_escaped(&mut out, &entity.id);
            out.push_str("\"}");
            push_sample(&mut out, Sample::Float(entity.health));
        }
    }
    for family in &SERIES_FAMILIES {
        if exposes(e.recorded, family.name) {
            continue;
        }
        let mut header = false;
        for (i, s) in e.series.iter().enumerate() {
            let Some(value) = (family.value)(s) else {
                continue;
            };
            if !header {
                push_header(&mut out, e.format, family.name, family.help, family.kind);
                header = true;
            }
            out.push_str(family.name);
            out.push_str(labels.block(i));
            push_sample(&mut out, value);
            flush(&mut out, false);
        }
    }
    if e.format == Format::OpenMetrics {
        out.push_str("# EOF\n");
    }
    if !out.is_empty() {
        flush(&mut out, true);
    }
}

/// Whether `text` already has a `# TYPE` line for `name`.
fn exposes(text: &str, name: &str) -> bool {
    text.lines().any(|l| {
        l.strip_prefix("# TYPE ")
            .and_then(|r| r.strip_prefix(name))
            .is_some_and(|r| r.starts_with(' '))
    })
}

fn push_header(out: &mut String, format: Format, name: &str, help: &str, kind: &str) {
    let name = match (format, kind) {
        (Format::OpenMetrics, "counter") => name.strip_suffix("_total").unwrap_or(name),
        _ => name,
    };
    for part in ["# HELP ", name, " ", help, "\n# TYPE ", name, " ", kind, "\n"] {
        out.push_str(part);
    }
}

fn push_sample(out: &mut String, value: Sample) {
    out.push(' ');
    match value {
        Sample::Int(v) => out.push_str(itoa::Buffer::new().format(v)),
        Sample::Float(v) if v.is_nan() => out.push_str("NaN"),
        Sample::Float(v) if v.is_infinite() => out.push_str(if v > 0.0 { "+Inf" } else { "-Inf" }),
        Sample::Float(v) => out.push_str(ryu::Buffer::new().format_finite(v)),
    }
    out.push('\n');
}

/// Every series' `{metric="...",key="..."}`, sanitised and escaped once.
struct LabelBlocks {
    text: String,
    ends: Vec<usize>,
}

impl LabelBlocks {
    fn of(series: &[SeriesSnapshot]) -> Self {
        let mut text = String::with_capacity(series.len() * 64);
        let mut ends = Vec::with_capacity(series.len());
        let mut names = Vec::new();
        for s in series {
            push_label_block(&mut text, &mut names, &s.labels);
            ends.push(text.len());
        }
        LabelBlocks { text, ends }
    }

    fn block(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }
}

/// Writes one label block. `names` is scratch space (reused across series) holding
/// where this block's label names sit in `out`, to find clashes without allocating.
fn push_label_block(out: &mut String, names: &mut Vec<Range<usize>>, labels: &SeriesLabels) {
    names.clear();
    out.push_str("{metric=\"");
    push_escaped(out, &labels.metric);
    out.push('"');
    for (key, value) in &labels.labels {
        out.push(',');
        let start = out.len();
        push_sanitised(out, key);
        // Two keys can sanitise to one name (`a.b`, `a_b`), or a key can be `metric`
        // itself; Prometheus rejects a label named twice, so later ones get a prefix.
        // `__` names are reserved for Prometheus' own use.
        while {
            let name = &out[start..];
            name == "metric" || name.starts_with("__") || names.iter().any(|r| &out[r.clone()] == name)
        } {
            out.insert_str(start, "label_");
        }
        names.push(start..out.len());
        out.push_str("=\"");
        push_escaped(out, value);
        out.push('"');
    }
    out.push('}');
}

/// Writes `key` as a label name matching `[a-zA-Z_][a-zA-Z0-9_]*`.
fn push_sanitised(out: &mut String, key: &str) {
    let valid = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    match key.as_bytes().first() {
        None => out.push('_'),
        // Most keys are valid already: copy them whole.
        Some(first) if !first.is_ascii_digit() && key.bytes().all(valid) => out.push_str(key),
        Some(first) => {
            if first.is_ascii_digit() {
                out.push('_');
            }
            for c in key.chars() {
                out.push(if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' });
            }
        }
    }
}

/// Writes a label value escaped per the exposition format.
fn push_escaped(out: &mut String, value: &str) {
    let special = |b: u8| matches!(b, b'\\' | b'"' | b'\n');
    let mut rest = value;
    while let Some(i) = rest.bytes().position(special) {
        out.push_str(&rest[..i]);
        out.push_str(match rest.as_bytes()[i] {
            b'\\' => "\\\\",
            b'"' => "\\\"",
            _ => "\\n",
        });
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
}

/// A label block on its own, for tests and logs.
#[cfg(test)]
fn label_block(labels: &SeriesLabels) -> String {
    let mut out = String::new();
    push_label_block(&mut out, &mut Vec::new(), labels);
    out
}

#[cfg(test)]
#[path = "render_tests.rs"]
mod tests;
