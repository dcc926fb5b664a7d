//! `jsonl`: drift events as JSON lines, one object per line, on standard output or
//! appended to a file. `driftd replay` writes its results through it.

mod config;

pub use config::{JsonlConfig, STDOUT};

use async_trait::async_trait;
use driftd_core::component::{BuildError, EventSink, ExportError, Exporter};
use driftd_core::DriftEvent;
use std::sync::Arc;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::Mutex;

/// Writes each batch of events as JSON lines.
pub struct JsonlSink {
    target: String,
    out: Mutex<Box<dyn AsyncWrite + Send + Unpin>>,
}

impl JsonlSink {
    /// Opens standard output, or `path` for appending (created when missing).
    pub async fn open(path: &str) -> Result<Self, std::io::Error> {
        let out: Box<dyn AsyncWrite + Send + Unpin> = if path == STDOUT {
            Box::new(tokio::io::stdout())
        } else {
            let file = tokio::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .await?;
            Box::new(file)
        };
        Ok(JsonlSink {
            target: path.to_string(),
            out: Mutex::new(out),
        })
    }
}

#[async_trait]
impl EventSink for JsonlSink {
    async fn export(&self, events: &[DriftEvent]) -> Result<(), ExportError> {
        // One write per batch: lines of a batch are never interleaved with another
        // writer's, and the file sees few, large writes.
        let mut lines = Vec::with_capacity(events.len() * 512);
        // Snapshots stay in the storage backend: an event line stays a line.
        for event in events.iter().map(DriftEvent::without_snapshot) {
            serde_json::to_writer(&mut lines, &event)
                .map_err(|e| ExportError::Permanent(format!("event {} is not serializable: {e}", event.id)))?;
            lines.push(b'\n');
        }
        let mut out = self.out.lock().await;
        let written = async {
            out.write_all(&lines).await?;
            // tokio writes files on its blocking pool; flushing waits for that write,
            // so a batch reported sent is in the file.
            out.flush().await
        };
        written
            .await
            .map_err(|e| ExportError::Transient(format!("cannot write to {}: {e}", self.target)))
    }

    async fn flush(&self) -> Result<(), ExportError> {
        self.out
            .lock()
            .await
            .flush()
            .await
            .map_err(|e| ExportError::Transient(format!("cannot flush {}: {e}", self.target)))
    }
}

/// Opens the output now, so a path driftd cannot write is a startup error.
pub(crate) async fn build(config: &JsonlConfig) -> Result<Exporter, BuildError> {
    let sink = JsonlSink::open(&config.path)
        .await
        .map_err(|e| BuildError::setting("path", format!("cannot open `{}` for appending: {e}", config.path)))?;
    Ok(Exporter::Events {
        sink: Arc::new(sink),
        queue: config.sending_queue.clone(),
        points: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::conformance::sample_event;
    use driftd_core::EventKind;

    #[tokio::test]
    async fn events_are_appended_one_json_object_per_line() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("events.jsonl");
        let path = path.to_str().expect("UTF-8 path");
        let first = [
            sample_event("latency_ms", "checkout", EventKind::DriftStart, 1_000_000_000),
            sample_event("latency_ms", "checkout", EventKind::DriftEnd, 2_000_000_000),
        ];
        let mut with_snapshot = sample_event("payload_kb", "search", EventKind::DriftStart, 3_000_000_000);
        with_snapshot.snapshot = Some(Default::default());
        let second = [with_snapshot];

        let sink = JsonlSink::open(path).await.expect("opens");
        sink.export(&first).await.expect("exports");
        sink.flush().await.expect("flushes");
        drop(sink);
        // A second run appends instead of truncating.
        let sink = JsonlSink::open(path).await.expect("reopens");
        sink.export(&second).await.expect("exports");
        sink.flush().await.expect("flushes");

        let text = std::fs::read_to_string(path).expect("reads");
        assert!(text.ends_with('\n'));
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        let read: Vec<DriftEvent> = lines
            .iter()
            .map(|l| serde_json::from_str(l).expect("each line is one event"))
            .collect();
        // Snapshots stay in the storage backend: the line is the event without it.
        assert!(!lines[2].contains("snapshot"), "{}", lines[2]);
        let want: Vec<_> = first.iter().chain(&second).map(DriftEvent::without_snapshot).collect();
        assert_eq!(read, want);
    }

    #[tokio::test]
    async fn an_unwritable_path_is_a_build_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = JsonlConfig {
            path: dir.path().join("missing/dir/events.jsonl").display().to_string(),
            ..JsonlConfig::default()
        };
        match build(&config).await {
            Err(BuildError::Setting { field, message }) => {
                assert_eq!(field, "path");
                assert!(message.contains("missing/dir"), "{message}")
            }
            _ => panic!("expected a build error"),
        }
    }
}
