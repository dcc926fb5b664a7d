//! The read loop: lines into batches of points, batches into the pipeline.
//!
//! Each line is read straight into the batch's text buffer and parsed in place; a
//! point's `origin` indexes its line there, so the labels of a new series are parsed
//! from that line only when the pipeline asks for them. Nothing is allocated per line.

use super::parse::{LineError, LineParser, Scratch};
use driftd_core::{Batch, ConsumeError, Consumer, LabelSource, Point, SeriesLabels, ValueKind};
use std::io::BufRead;
use std::sync::mpsc;
use std::time::Duration;
use thiserror::Error;

/// Longest line read; a longer one is skipped as bad, so a file with no line breaks
/// cannot exhaust memory.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// Past this much buffered text a batch is handed on early.
const MAX_BATCH_BYTES: usize = 64 << 20;

/// How long to wait before offering a batch again to a pipeline that said `Full`.
const FULL_BACKOFF: Duration = Duration::from_millis(10);

/// Why reading stopped before the end of the input.
#[derive(Debug, Error)]
pub enum ReadError {
    /// The input could not be read.
    #[error("cannot read line {line}: {source}")]
    Io {
        /// The line being read.
        line: u64,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The pipeline is shutting down.
    #[error("the pipeline closed before the input ended")]
    Closed,
}

/// What a read did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ReadSummary {
    /// Lines read, header and blank lines included.
    pub lines: u64,
    /// Points handed to the pipeline.
    pub points: u64,
    /// Lines skipped because they did not parse.
    pub bad_lines: u64,
    /// Whether reading stopped early because shutdown was asked for.
    pub stopped: bool,
}

/// The buffers of one batch, reused from batch to batch.
#[derive(Default)]
struct BatchBuffers {
    text: Vec<u8>,
    lines: Vec<(usize, usize)>,
    points: Vec<Point>,
}

/// Materialises labels from the lines of the batch being consumed.
struct BatchLabels<'a> {
    text: &'a [u8],
    lines: &'a [(usize, usize)],
    parser: &'a LineParser,
}

impl LabelSource for BatchLabels<'_> {
    fn labels(&self, origin: u32) -> SeriesLabels {
        let line = self.lines.get(origin as usize).and_then(|&(s, e)| self.text.get(s..e));
        match line.map(|l| self.parser.labels(l)) {
            Some(Ok(labels)) => labels,
            // Only lines that parsed become points, so this is a bug here; an empty
            // identity is safer than a panic on the ingest path.
            other => {
                tracing::error!(origin, error = ?other.map(|r| r.err()), "file point origin does not resolve to its line");
                SeriesLabels::new(String::new(), Vec::new())
            }
        }
    }
}

/// Polled between batches: whether to stop reading early (shutdown).
pub type StopFn<'a> = &'a (dyn Fn() -> bool + Sync);

/// Reads `input` to its end in batches of `batch_size` points. `first_line` is the
/// number of the first line `input` yields (2 after a CSV header); `on_bad` hears of
/// every skipped line; `stop` is polled between batches.
///
/// Parsing and the pipeline run on two threads, one batch apart: this thread fills a
/// batch while the other hands the previous one down the pipeline, so a replay runs at
/// the pace of the slower half instead of both added up. Batches keep their order.
pub fn read_all(
    input: impl BufRead,
    first_line: u64,
    parser: &LineParser,
    batch_size: usize,
    output: &dyn Consumer,
    stop: StopFn<'_>,
    on_bad: &mut dyn FnMut(u64, &LineError),
) -> Result<ReadSummary, ReadError> {
    std::thread::scope(|scope| {
        // Two sets of buffers circulate: one being filled, one being consumed.
        let (filled_tx, filled_rx) = mpsc::sync_channel::<BatchBuffers>(1);
        let (empty_tx, empty_rx) = mpsc::channel::<BatchBuffers>();
        for _ in 0..2 {
            let _ = empty_tx.send(BatchBuffers::default());
        }
        let pipeline = scope.spawn(move || -> Result<u64, ReadError> {
            let mut sent = 0;
            for mut b in filled_rx {
                sent += flush(&mut b, parser, output, stop)?;
                // The reader may have finished and gone; then nothing needs the buffers.
                let _ = empty_tx.send(b);
            }
            Ok(sent)
        });
        let mut summary = fill(
            input, first_line, parser, batch_size, stop, on_bad, &empty_rx, &filled_tx,
        );
        drop(filled_tx);
        let sent = pipeline.join().unwrap_or(Err(ReadError::Closed));
        // A pipeline error explains why filling stopped, so it comes first.
        let sent = sent?;
        if let Ok(s) = &mut summary {
            s.points = sent;
        }
        summary
    })
}

/// The parsing half of [`read_all`]: fills batches and passes them on.
#[allow(clippy::too_many_arguments)]
fn fill(
    mut input: impl BufRead,
    first_line: u64,
    parser: &LineParser,
    batch_size: usize,
    stop: StopFn<'_>,
    on_bad: &mut dyn FnMut(u64, &LineError),
    empty: &mpsc::Receiver<BatchBuffers>,
    filled: &mpsc::SyncSender<BatchBuffers>,
) -> Result<ReadSummary, ReadError> {
    let mut summary = ReadSummary {
        lines: first_line - 1,
        ..ReadSummary::default()
    };
    // The pipeline thread ends (and drops its sender) only on an error it reports.
    let Ok(mut b) = empty.recv() else { return Ok(summary) };
    let mut scratch = Scratch::default();
    loop {
        let line_no = summary.lines + 1;
        let start = b.text.len();
        let limit = MAX_LINE_BYTES as u64 + 1;
        let n = std::io::Read::take(&mut input, limit)
            .read_until(b'\n', &mut b.text)
            .map_err(|source| ReadError::Io { line: line_no, source })?;
        if n == 0 {
            break;
        }
        summary.lines = line_no;
        let mut end = b.text.len();
        if b.text[end - 1] == b'\n' {
            end -= 1;
        } else if n as u64 == limit {
            b.text.truncate(start);
            input
                .skip_until(b'\n')
                .map_err(|source| ReadError::Io { line: line_no, source })?;
            summary.bad_lines += 1;
            on_bad(line_no, &LineError::TooLong { limit: MAX_LINE_BYTES });
            continue;
        }
        if end > start && b.text[end - 1] == b'\r' {
            end -= 1;
        }
        let line = &b.text[start..end];
        if line.trim_ascii().is_empty() {
            b.text.truncate(start);
            continue;
        }
        match parser.parse(line, &mut scratch) {
            Ok(sample) => {
                b.points.push(Point {
                    series: sample.series,
                    time_unix_nano: sample.time_unix_nano,
                    value: sample.value,
                    kind: ValueKind::Gauge,
                    origin: b.lines.len() as u32,
                });
                b.lines.push((start, end));
            }
            Err(e) => {
                summary.bad_lines += 1;
                on_bad(line_no, &e);
                b.text.truncate(start);
            }
        }
        if b.points.len() >= batch_size || b.text.len() >= MAX_BATCH_BYTES {
            let next = filled.send(b).ok().and_then(|()| empty.recv().ok());
            match next {
                Some(fresh) if !stop() => b = fresh,
                Some(_) => {
                    summary.stopped = true;
                    return Ok(summary);
                }
                None => return Ok(summary),
            }
        }
    }
    let _ = filled.send(b);
    Ok(summary)
}

/// Hands the batch to the pipeline, waiting while it is full; returns the points sent.
fn flush(b: &mut BatchBuffers, parser: &LineParser, output: &dyn Consumer, stop: StopFn<'_>) -> Result<u64, ReadError> {
    if b.points.is_empty() {
        b.text.clear();
        return Ok(0);
    }
    let labels = BatchLabels {
        text: &b.text,
        lines: &b.lines,
        parser,
    };
    let batch = Batch::new(&b.points, &labels);
    // Replay must not lose points, so a full pipeline is waited for rather than skipped.
    loop {
        match output.consume(&batch) {
            Ok(()) => break,
            Err(ConsumeError::Full) if !stop() => std::thread::sleep(FULL_BACKOFF),
            Err(ConsumeError::Full | ConsumeError::Closed) => return Err(ReadError::Closed),
        }
    }
    let sent = b.points.len() as u64;
    b.text.clear();
    b.lines.clear();
    b.points.clear();
    Ok(sent)
}
