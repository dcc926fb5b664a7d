//! The `file` receiver: reads recorded points from a CSV or JSON lines file, feeds the
//! pipeline in batches, and finishes at the end of the input. `driftd replay` is this
//! receiver + the configured processors + the `jsonl` exporter (DESIGN.md §2); event
//! time comes from the data.
//!
//! CSV (see `csv.rs`): a header line naming a `timestamp` and a `value` column; a
//! `metric` column (or, without one, a `series` column) names the metric, else the
//! config's `metric`, else the file stem; every other column is a label. JSON lines
//! (see `jsonl.rs`): `{timestamp, metric?, value, labels?}`. Timestamps: RFC 3339, the
//! `2014-04-01 00:00:00` form (UTC), or Unix seconds (`driftd_core::time::parse_timestamp`).
//!
//! A line that does not parse is skipped and counted, never fatal: one bad row of a
//! million should not void a backtest. The first few are logged with their line
//! numbers, and a summary at the end says how many were skipped. Only an unreadable
//! file (or a header without the required columns, found when the receiver is built)
//! stops the run.

mod config;
mod csv;
mod jsonl;
mod parse;
mod read;

#[cfg(test)]
mod tests;

pub use config::{FileConfig, FileFormat};
pub use csv::HeaderError;
pub use parse::{Identity, LineError, LineParser, Sample, Scratch};
pub use read::{read_all, ReadError, ReadSummary, MAX_LINE_BYTES};

use driftd_core::component::{BuildContext, BuildError, Receiver, RunError, RunFuture};
use driftd_core::config::ComponentId;
use driftd_core::Consumer;
use metrics::Counter;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Bad lines logged one by one; past this only the count grows.
const LOGGED_BAD_LINES: u64 = 10;

/// Read buffer: large enough that reading is a few big syscalls.
const READ_BUFFER_BYTES: usize = 1 << 20;

impl FileConfig {
    /// Opens the file and reads a CSV header now, so a missing file or a header
    /// without `timestamp` and `value` is a startup error.
    pub async fn build(
        &self,
        id: &ComponentId,
        _ctx: &mut BuildContext,
        output: Arc<dyn Consumer>,
    ) -> Result<Option<Box<dyn Receiver>>, BuildError> {
        let shown = self.path.display();
        let fail = |message: String| BuildError::setting("path", format!("`{shown}`: {message}"));
        let file = File::open(&self.path).map_err(|e| fail(format!("cannot open it: {e}")))?;
        let mut input = BufReader::with_capacity(READ_BUFFER_BYTES, file);
        let identity = Identity::new(self.default_metric(), self.labels.clone().into_iter().collect());
        let (parser, first_line) = match self.resolved_format() {
            Some(FileFormat::Csv) => {
                let mut header = Vec::new();
                input
                    .read_until(b'\n', &mut header)
                    .map_err(|e| fail(format!("cannot read it: {e}")))?;
                let header = header.strip_suffix(b"\n").unwrap_or(&header);
                let header = header.strip_suffix(b"\r").unwrap_or(header);
                if header.trim_ascii().is_empty() {
                    return Err(fail(
                        "a CSV file must start with a header line (timestamp,value,...)".into(),
                    ));
                }
                (LineParser::csv(header, identity).map_err(|e| fail(e.to_string()))?, 2)
            }
            Some(FileFormat::Jsonl) => (LineParser::jsonl(identity), 1),
            Some(FileFormat::Auto) | None => {
                return Err(fail("cannot tell its format from the extension: set `format`".into()))
            }
        };
        Ok(Some(Box::new(FileReceiver {
            name: id.to_string(),
            path: self.path.clone(),
            input,
            parser,
            first_line,
            batch_size: self.batch_size.get(),
            output,
        })))
    }
}

/// A built file receiver: the file is open, the header read.
pub struct FileReceiver {
    name: String,
    path: PathBuf,
    input: BufReader<File>,
    parser: LineParser,
    first_line: u64,
    batch_size: usize,
    output: Arc<dyn Consumer>,
}

impl Receiver for FileReceiver {
    fn run(self: Box<Self>, shutdown: CancellationToken) -> RunFuture {
        // Reading and parsing never wait on anything but the disk, so the whole loop
        // runs on a blocking thread and the runtime stays free for exporter workers.
        Box::pin(async move {
            tokio::task::spawn_blocking(move || self.read(&shutdown))
                .await
                .map_err(|e| RunError::new("the reading thread", e))?
        })
    }
}

impl FileReceiver {
    fn read(self, shutdown: &CancellationToken) -> Result<(), RunError> {
        let FileReceiver {
            name,
            path,
            input,
            parser,
            first_line,
            batch_size,
            output,
        } = self;
        let labels = [("receiver", name.clone()), ("transport", "file".to_string())];
        let accepted: Counter = metrics::counter!("driftd_receiver_accepted_points_total", &labels);
        let refused: Counter = metrics::counter!("driftd_receiver_refused_points_total", &labels);
        let file = path.display().to_string();
        let (mut bad, mut first_bad) = (0u64, 0u64);
        let mut on_bad = |line: u64, e: &LineError| {
            refused.increment(1);
            bad += 1;
            if bad == 1 {
                first_bad = line;
            }
            // One by one only at first: a file of garbage must not flood the log.
            if bad <= LOGGED_BAD_LINES {
                tracing::warn!(receiver = %name, "{file}:{line}: skipped: {e}");
            }
        };
        let summary = read_all(
            input,
            first_line,
            &parser,
            batch_size,
            output.as_ref(),
            &|| shutdown.is_cancelled(),
            &mut on_bad,
        )
        .map_err(|e| RunError::new(file.clone(), e))?;
        accepted.increment(summary.points);
        if summary.bad_lines > 0 {
            tracing::warn!(
                receiver = %name,
                "{file}: skipped {} bad line(s) of {} (first at line {}){}",
                summary.bad_lines,
                summary.lines,
                first_bad,
                if summary.bad_lines > LOGGED_BAD_LINES { "; only the first 10 are shown" } else { "" }
            );
        }
        tracing::info!(receiver = %name, points = summary.points, lines = summary.lines, stopped = summary.stopped, "{file}: read");
        Ok(())
    }
}
