//! Storage: the `storage` exporter that writes drift events into the configured
//! backend, and the backends themselves, one folder each (`memory`, `sqlite`, `redis`,
//! `timescale`; the two SQL ones are the `sql` module's store). Every backend passes the suites
//! in [`conformance`].

pub mod conformance;
mod exporter;
pub mod memory;
pub mod redis;
mod retention;
pub mod sqlite;
pub mod timescale;

pub use exporter::{StorageExporterConfig, StoreSink};
pub use retention::{prune_interval, spawn_pruning};

pub(crate) use exporter::{build as build_exporter, export_error};

use std::time::Duration;

/// How long events, statuses and checkpoints are kept unless a backend says otherwise.
pub(crate) fn default_retention() -> Duration {
    Duration::from_secs(7 * 24 * 3600)
}
