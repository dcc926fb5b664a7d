//! `driftd replay` through the real binary: recorded data in, drift events out.

mod common;

use common::{driftd_bin, TempDir, ZSCORE_CONFIG};
use std::path::Path;
use std::process::{Command, Output};

/// First sample time: 2023-11-14T22:13:20Z.
const T0: u64 = 1_700_000_000;
/// The step starts on this sample, at 2023-11-14T22:18:20Z.
const STEP_AT: u64 = 300;

/// Uniform noise in [-1, 1) from a fixed LCG, so every run sees the same series.
fn noise(n: usize) -> Vec<f64> {
    let mut x: u64 = 12_345;
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((x >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 2.0
        })
        .collect()
}

/// 400 samples of 100 ± 1, one per second, stepping up by 20 at sample 300.
fn step_series() -> Vec<(u64, f64)> {
    noise(400)
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            let step = if i as u64 >= STEP_AT { 20.0 } else { 0.0 };
            (T0 + i as u64, 100.0 + e + step)
        })
        .collect()
}

fn replay(dir: &TempDir, input: &str, extra: &[&str]) -> (Output, Vec<serde_json::Value>) {
    let config = dir.0.join("config.yaml");
    std::fs::write(&config, ZSCORE_CONFIG).expect("write config");
    let output = dir.0.join("events.jsonl");
    let out = Command::new(driftd_bin())
        .arg("replay")
        .arg("--config")
        .arg(&config)
        .arg("--input")
        .arg(dir.0.join(input))
        .arg("--output")
        .arg(&output)
        .args(extra)
        .output()
        .expect("run driftd replay");
    let events = std::fs::read_to_string(&output)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("each output line is a JSON event"))
        .collect();
    (out, events)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn write(dir: &TempDir, name: &str, text: &str) {
    std::fs::write(dir.0.join(name), text).expect("write input");
}

fn assert_one_step_detected(events: &[serde_json::Value], metric: &str, out: &Output) {
    assert!(out.status.success(), "{}", stderr(out));
    assert_eq!(events.len(), 1, "exactly one event: {events:#?}");
    let e = &events[0];
    assert_eq!(e["kind"], "drift_start");
    assert_eq!(e["detector"], "zscore");
    assert_eq!(e["series"]["metric"], metric);
    assert_eq!(e["series"]["labels"]["host"], "a");
    // Five consecutive |z| > 3 from the first stepped sample: it fires on the fifth.
    assert_eq!(e["timestamp"], "2023-11-14T22:18:24Z");
    assert_eq!(e["onset"], "2023-11-14T22:18:20Z");
    for field in ["series_id", "severity", "scores", "baseline", "recent"] {
        assert!(!e[field].is_null(), "{field} is present: {e}");
    }
}

#[test]
fn a_step_in_a_csv_is_one_drift_start_at_the_right_time() {
    let dir = TempDir::new("replay-csv");
    let mut csv = String::from("timestamp,host,value\n");
    for (t, v) in step_series() {
        csv.push_str(&format!("{t},a,{v:.4}\n"));
    }
    write(&dir, "latency.csv", &csv);
    let (out, events) = replay(&dir, "latency.csv", &[]);
    assert_one_step_detected(&events, "latency", &out);
    let summary = stderr(&out);
    for line in [
        "points:    400",
        "series:    1",
        "events:    1 (drift_start 1, drift_end 0)",
        "bad lines: 0",
        "points/s",
    ] {
        assert!(summary.contains(line), "summary has `{line}`:\n{summary}");
    }
}

#[test]
fn json_lines_replay_the_same_way() {
    let dir = TempDir::new("replay-jsonl");
    let mut jsonl = String::new();
    for (i, (t, v)) in step_series().into_iter().enumerate() {
        // Both timestamp spellings, to show either is event time.
        let time = if i % 2 == 0 {
            serde_json::json!(t)
        } else {
            let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(t);
            serde_json::json!(humantime::format_rfc3339(time).to_string())
        };
        let line = serde_json::json!({"timestamp": time, "metric": "checkout_ms", "value": v, "labels": {"host": "a"}});
        jsonl.push_str(&format!("{line}\n"));
    }
    write(&dir, "points.jsonl", &jsonl);
    let (out, events) = replay(&dir, "points.jsonl", &[]);
    assert_one_step_detected(&events, "checkout_ms", &out);
}

#[test]
fn bad_lines_are_skipped_counted_and_reported_by_line_number() {
    let dir = TempDir::new("replay-bad");
    let csv = "timestamp,value\n\
               2014-04-01 00:00:00,1\n\
               2014-04-01 00:00:01,oops\n\
               2014-04-01 00:00:02,3\n\
               yesterday,4\n\
               2014-04-01 00:00:04,5,6\n\
               2014-04-01 00:00:05,6\n";
    write(&dir, "bad.csv", csv);
    let (out, events) = replay(&dir, "bad.csv", &[]);
    let err = stderr(&out);
    assert!(out.status.success(), "bad lines do not abort a replay: {err}");
    assert!(events.is_empty());
    assert!(
        err.contains("bad.csv:3: skipped: value `oops` is not a number within ±1e100"),
        "{err}"
    );
    assert!(err.contains("bad.csv:5: skipped: timestamp `yesterday`"), "{err}");
    assert!(err.contains("bad.csv:6: skipped: expected 2 fields"), "{err}");
    assert!(err.contains("skipped 3 bad line(s) of 7 (first at line 3)"), "{err}");
    assert!(err.contains("points:    3") && err.contains("bad lines: 3"), "{err}");
}

#[test]
fn unusable_input_is_a_clear_error() {
    let dir = TempDir::new("replay-errors");
    write(&dir, "no_value.csv", "timestamp,reading\n1,2\n");
    let (out, _) = replay(&dir, "no_value.csv", &[]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("no `value` column"), "{}", stderr(&out));

    let (out, _) = replay(&dir, "missing.csv", &[]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("missing.csv") && stderr(&out).contains("cannot open"),
        "{}",
        stderr(&out)
    );

    write(&dir, "points.txt", "{\"timestamp\":1,\"value\":1}\n");
    let (out, _) = replay(&dir, "points.txt", &[]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--format jsonl"), "{}", stderr(&out));
    let (out, _) = replay(&dir, "points.txt", &["--format", "jsonl"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn an_existing_output_file_is_replaced() {
    let dir = TempDir::new("replay-replace");
    write(&dir, "flat.csv", "timestamp,value\n1,1\n2,1\n");
    std::fs::write(dir.0.join("events.jsonl"), "stale line\n").expect("write stale output");
    let (out, events) = replay(&dir, "flat.csv", &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(events.is_empty());
    assert!(Path::new(&dir.0.join("events.jsonl")).exists());
}
