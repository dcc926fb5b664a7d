//! The Prometheus exposition of series whose metric names and labels are any text (they
//! come from clients): in both formats, every series is one sample line per family, and
//! every label block has valid, distinct names and closed, escaped values.
#![no_main]

use driftd_core::event::Stats;
use driftd_core::view::{SeriesSnapshot, SeriesState};
use driftd_core::SeriesLabels;
use driftd_exporters::prometheus::render::{render, Exposition, Format};
use libfuzzer_sys::fuzz_target;
use std::collections::HashSet;
use std::sync::Arc;

/// Series separated by 0x01; in each, fields separated by 0x00: the metric, then label
/// keys and values in turn; the last 8 bytes of the input are a value for every gauge.
fn series(bytes: &[u8]) -> Vec<SeriesSnapshot> {
    let value = bytes
        .get(bytes.len().saturating_sub(8)..)
        .and_then(|b| b.try_into().ok())
        .map(f64::from_le_bytes)
        .unwrap_or(1.5);
    bytes
        .split(|&b| b == 1)
        .take(16)
        .map(|one| {
            let mut fields = one.split(|&b| b == 0).map(|f| String::from_utf8_lossy(f).into_owned());
            let metric = fields.next().unwrap_or_default();
            let rest: Vec<String> = fields.collect();
            let pairs = rest
                .chunks(2)
                .map(|kv| (kv[0].clone(), kv.get(1).cloned().unwrap_or_default()));
            let labels = Arc::new(SeriesLabels::new(metric, pairs.collect()));
            SeriesSnapshot {
                id: labels.id(),
                labels,
                state: SeriesState::DriftDetected,
                transition_time: 1,
                sample_count: 7,
                last_time: 2,
                last_value: value,
                last_score: value,
                baseline: Some(Stats {
                    mean: value,
                    stddev: value,
                    samples: 7,
                }),
                detector: "auto",
            }
        })
        .collect()
}

/// Checks one label block (`{...}` at the start of `text`) and returns what follows it.
fn check_block(text: &str) -> &str {
    let mut rest = text.strip_prefix('{').expect("a label block opens with {");
    let mut names = HashSet::new();
    loop {
        let eq = rest.find('=').expect("a label has =");
        let name = &rest[..eq];
        let valid = name
            .chars()
            .enumerate()
            .all(|(i, c)| c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()));
        assert!(!name.is_empty() && valid, "label name `{name}`");
        assert!(names.insert(name.to_string()), "label name `{name}` twice in {text}");
        let mut chars = rest[eq + 1..]
            .strip_prefix('"')
            .expect("a label value is quoted")
            .char_indices();
        let end = loop {
            match chars.next().expect("a label value is closed") {
                (_, '\\') => assert!(matches!(chars.next(), Some((_, '\\' | '"' | 'n'))), "escape in {text}"),
                (i, '"') => break i,
                (_, c) => assert!(c != '\n', "raw newline in a value"),
            }
        };
        rest = &rest[eq + 2 + end + 1..];
        match rest.as_bytes().first() {
            Some(b',') => rest = &rest[1..],
            Some(b'}') => return &rest[1..],
            _ => panic!("a label is followed by , or }}: {text}"),
        }
    }
}

fuzz_target!(|bytes: &[u8]| {
    let series = series(bytes);
    let distinct: HashSet<_> = series.iter().map(|s| s.id).collect();
    for format in [Format::Text, Format::OpenMetrics] {
        let text = render(&Exposition {
            recorded: "",
            series_tracked: series.len(),
            points_processed: 1,
            series: &series,
            entities: &[],
            format,
        });
        let state_lines: Vec<&str> = text.lines().filter(|l| l.starts_with("driftd_series_state{")).collect();
        assert_eq!(state_lines.len(), series.len(), "one sample line per series");
        assert!(distinct.len() <= series.len());
        for line in state_lines {
            let after = check_block(&line["driftd_series_state".len()..]);
            assert!(
                after == " 2" || after == " 2.0",
                "the sample value follows the block: `{after}`"
            );
        }
    }
});
