//! The read loop end to end against a recording pipeline, and the line parsers
//! against garbage.

use super::*;
use driftd_core::{Batch, ConsumeError, Point, SeriesId, SeriesLabels};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Records every point and, like the drift processor, asks for the labels of each
/// series the first time it appears.
#[derive(Default)]
struct Recorder {
    points: Mutex<Vec<Point>>,
    labels: Mutex<HashMap<SeriesId, SeriesLabels>>,
    batches: Mutex<Vec<usize>>,
    /// Answer `Full` this many times before taking batches.
    full_first: AtomicUsize,
}

impl Consumer for Recorder {
    fn consume(&self, batch: &Batch<'_>) -> Result<(), ConsumeError> {
        if self.full_first.load(Ordering::SeqCst) > 0 {
            self.full_first.fetch_sub(1, Ordering::SeqCst);
            return Err(ConsumeError::Full);
        }
        let mut labels = self.labels.lock().unwrap();
        for p in batch.points {
            labels.entry(p.series).or_insert_with(|| batch.labels.labels(p.origin));
        }
        self.points.lock().unwrap().extend_from_slice(batch.points);
        self.batches.lock().unwrap().push(batch.points.len());
        Ok(())
    }
}

struct Run {
    recorder: Recorder,
    summary: Result<ReadSummary, ReadError>,
    bad: Vec<(u64, String)>,
}

fn run(parser: &LineParser, first_line: u64, body: &[u8], batch_size: usize, recorder: Recorder) -> Run {
    let mut bad = Vec::new();
    let summary = read_all(
        body,
        first_line,
        parser,
        batch_size,
        &recorder,
        &|| false,
        &mut |line, e| bad.push((line, e.to_string())),
    );
    Run { recorder, summary, bad }
}

fn csv_parser(header: &str) -> LineParser {
    LineParser::csv(
        header.as_bytes(),
        Identity::new("latency", vec![("env".into(), "test".into())]),
    )
    .unwrap()
}

#[test]
fn csv_lines_become_points_in_batches_with_lazy_labels() {
    let parser = csv_parser("timestamp,host,value");
    let body = "2014-04-01 00:00:00,a,1\r\n2014-04-01 00:00:01,b,2\n\n1396310402,a,3\n1396310403.5, b ,4";
    let r = run(&parser, 2, body.as_bytes(), 2, Recorder::default());
    let summary = r.summary.unwrap();
    assert_eq!((summary.lines, summary.points, summary.bad_lines), (6, 4, 0));
    assert_eq!(*r.recorder.batches.lock().unwrap(), [2, 2]);
    let points = r.recorder.points.lock().unwrap();
    let values: Vec<f64> = points.iter().map(|p| p.value).collect();
    assert_eq!(values, [1.0, 2.0, 3.0, 4.0]);
    assert_eq!(points[0].time_unix_nano, 1_396_310_400_000_000_000);
    assert_eq!(points[3].time_unix_nano, 1_396_310_403_500_000_000);
    assert_eq!(points[0].series, points[2].series);
    assert_eq!(points[1].series, points[3].series, "unquoted fields are trimmed");
    assert_ne!(points[0].series, points[1].series);
    let labels = r.recorder.labels.lock().unwrap();
    assert_eq!(labels.len(), 2);
    for (id, l) in labels.iter() {
        assert_eq!(
            *id,
            l.id(),
            "the hash read from the line matches the labels materialised later"
        );
        assert_eq!(l.metric, "latency");
        assert_eq!(l.get("env"), Some("test"));
    }
}

#[test]
fn repeated_timestamps_reuse_the_parse_and_changes_are_seen() {
    let parser = csv_parser("timestamp,host,value");
    let mut scratch = Scratch::default();
    let mut time = |line: &str| parser.parse(line.as_bytes(), &mut scratch).map(|s| s.time_unix_nano);
    assert_eq!(time("2014-04-01 00:00:00,a,1"), Ok(1_396_310_400_000_000_000));
    assert_eq!(time("2014-04-01 00:00:00,b,1"), Ok(1_396_310_400_000_000_000));
    assert_eq!(time("2014-04-01 00:00:01,a,1"), Ok(1_396_310_401_000_000_000));
    assert!(time("2014-04-01 00:00:0x,a,1").is_err());
    assert_eq!(time("2014-04-01 00:00:01,a,1"), Ok(1_396_310_401_000_000_000));
}

#[test]
fn bad_lines_are_skipped_counted_and_numbered() {
    let parser = csv_parser("timestamp,value");
    let body = b"2014-04-01 00:00:00,1\nnot a time,2\n2014-04-01 00:00:02,abc\n2014-04-01 00:00:03\n2014-04-01 00:00:04,NaN\n2014-04-01 00:00:05,1e300\n\xff,1\n2014-04-01 00:00:06,6\n";
    let r = run(&parser, 2, body, 4096, Recorder::default());
    let summary = r.summary.unwrap();
    assert_eq!((summary.points, summary.bad_lines), (2, 6));
    let lines: Vec<u64> = r.bad.iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, [3, 4, 5, 6, 7, 8]);
    assert!(r.bad[0].1.contains("timestamp `not a time`"), "{:?}", r.bad);
    assert!(r.bad[1].1.contains("value `abc` is not a number within ±1e100"));
    assert!(r.bad[2].1.contains("expected 2 fields"));
    assert!(r.bad[3].1.contains("`NaN` is not a number within"));
    assert!(r.bad[4].1.contains("`1e300` is not a number within ±1e100"));
    assert!(r.bad[5].1.contains("not UTF-8"));
}

#[test]
fn an_overlong_line_is_skipped_and_reading_goes_on() {
    let parser = LineParser::jsonl(Identity::new("m", vec![]));
    let mut body = vec![b'x'; MAX_LINE_BYTES + 10];
    body.extend_from_slice(b"\n{\"timestamp\":1,\"value\":1}\n");
    let r = run(&parser, 1, &body, 4096, Recorder::default());
    assert_eq!(r.summary.unwrap().points, 1);
    assert_eq!(r.bad.len(), 1);
    assert_eq!(r.bad[0].0, 1);
    assert!(r.bad[0].1.contains("longer than"));
}

#[test]
fn jsonl_lines_read_with_labels() {
    let parser = LineParser::jsonl(Identity::new("default", vec![]));
    let body = br#"{"timestamp":"2014-04-01T00:00:00Z","metric":"cpu","value":0.5,"labels":{"host":"a"}}
{"timestamp":1396310401,"value":1}
{"timestamp":1396310402,"value":}
"#;
    let r = run(&parser, 1, body, 4096, Recorder::default());
    assert_eq!(r.summary.unwrap().points, 2);
    assert_eq!(r.bad.len(), 1);
    assert_eq!(r.bad[0].0, 3);
    let labels = r.recorder.labels.lock().unwrap();
    let mut names: Vec<_> = labels.values().map(|l| l.to_string()).collect();
    names.sort();
    assert_eq!(names, ["cpu{host=\"a\"}", "default{}"]);
}

#[test]
fn a_full_pipeline_is_waited_for_and_a_closed_one_ends_the_read() {
    let parser = csv_parser("timestamp,value");
    let recorder = Recorder {
        full_first: AtomicUsize::new(3),
        ..Recorder::default()
    };
    let r = run(&parser, 2, b"1,1\n2,2\n", 4096, recorder);
    assert_eq!(
        r.summary.unwrap().points,
        2,
        "no point is lost while the pipeline is full"
    );

    struct Closed;
    impl Consumer for Closed {
        fn consume(&self, _: &Batch<'_>) -> Result<(), ConsumeError> {
            Err(ConsumeError::Closed)
        }
    }
    let result = read_all(&b"1,1\n"[..], 2, &parser, 4096, &Closed, &|| false, &mut |_, _| {});
    assert!(matches!(result, Err(ReadError::Closed)));
}

/// A small deterministic generator (xorshift64*), so the garbage is the same every run.
struct Garbage(u64);

impl Garbage {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Random bytes, or a valid line with a few bytes changed, so the parsers are
    /// pushed past their first checks too.
    fn line(&mut self, valid: &[&[u8]]) -> Vec<u8> {
        let len = (self.next() % 120) as usize;
        if self.next() & 1 == 0 {
            return (0..len).map(|_| self.next() as u8).collect();
        }
        let mut line = valid[(self.next() % valid.len() as u64) as usize].to_vec();
        for _ in 0..1 + self.next() % 4 {
            let at = (self.next() % (line.len() as u64 + 1)) as usize;
            const INTERESTING: &[u8] = b",\"{}:[]-+.eE0123456789 \\\r\t\xff\xc3";
            let b = INTERESTING[(self.next() % INTERESTING.len() as u64) as usize];
            match self.next() % 3 {
                0 if at < line.len() => line[at] = b,
                1 => line.insert(at, b),
                _ => line.truncate(at),
            }
        }
        line
    }
}

#[test]
fn ten_thousand_garbage_lines_never_panic() {
    let csv = csv_parser("timestamp,metric,host,value");
    let jsonl = LineParser::jsonl(Identity::new("m", vec![("env".into(), "x".into())]));
    let valid_csv: &[&[u8]] = &[
        b"2014-04-01 00:00:00,cpu,a,1.5",
        b"\"2014-04-01T00:00:00+02:00\",\"c\"\"pu\",\"a,b\",-3e2",
        b"1396310400.123,cpu,,7",
    ];
    let valid_json: &[&[u8]] = &[
        br#"{"timestamp":"2014-04-01T00:00:00Z","metric":"cpu","value":0.5,"labels":{"host":"a","n":1}}"#,
        br#"{"timestamp":1396310401.5,"value":1e3,"labels":null}"#,
    ];
    let mut g = Garbage(0x5eed);
    let mut scratch = Scratch::default();
    let (mut csv_ok, mut json_ok) = (0, 0);
    for _ in 0..10_000 {
        let line = g.line(valid_csv);
        if let Ok(s) = csv.parse(&line, &mut scratch) {
            csv_ok += 1;
            assert!(s.value.is_finite());
            assert_eq!(csv.labels(&line).expect("an accepted line has labels").id(), s.series);
        }
        let line = g.line(valid_json);
        if let Ok(s) = jsonl.parse(&line, &mut scratch) {
            json_ok += 1;
            assert_eq!(jsonl.labels(&line).expect("an accepted line has labels").id(), s.series);
        }
    }
    // Some mutated lines stay valid; that they do shows the mutations reach deep paths.
    assert!(csv_ok > 0 && json_ok > 0, "csv {csv_ok}, json {json_ok}");
}
