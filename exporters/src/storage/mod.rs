//! Event history: the `storage` exporter that writes drift events into the configured
//! backend, and the backends themselves, one folder each. Every backend passes the
//! suites in [`conformance`].

pub mod conformance;
mod exporter;
pub mod memory;

pub use exporter::{StorageExporterConfig, StoreSink};

pub(crate) use exporter::build as build_exporter;
