//! driftd-exporters: how drift leaves driftd. Pull exporters (`prometheus`, `api`) read
//! the series tables at request time; pushed exporters (`jsonl`, `storage`) take drift
//! events through the core's bounded queue. Storage backends live under `storage/`.

pub mod api;
pub mod jsonl;
pub mod prometheus;
pub mod storage;
#[cfg(test)]
mod testing;

pub use prometheus::install_recorder;
pub use storage::conformance;

use driftd_core::component::{BuildContext, BuildError, Exporter, ExporterFactory, Signal, StoreFactory};
use driftd_core::config::{parse_body, ComponentConfig, ComponentId, FieldError, ParseError};
use driftd_core::store::Store;
use serde::Serialize;
use std::sync::Arc;

/// Every exporter this crate ships, by YAML type name.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ExporterConfig {
    /// `prometheus`: per-series drift gauges and driftd's own telemetry, scraped.
    Prometheus(prometheus::PrometheusConfig),
    /// `api`: the query API.
    Api(api::ApiConfig),
    /// `jsonl`: drift events as JSON lines on stdout or in a file.
    Jsonl(jsonl::JsonlConfig),
    /// `storage`: drift events into the configured storage backend.
    Storage(storage::StorageExporterConfig),
}

impl ComponentConfig for ExporterConfig {
    const KINDS: &'static [&'static str] = &["prometheus", "api", "jsonl", "storage"];

    fn parse(kind: &str, body: serde_yaml::Value) -> Result<Self, ParseError> {
        match kind {
            "prometheus" => parse_body(body).map(Self::Prometheus),
            "api" => parse_body(body).map(Self::Api),
            "jsonl" => parse_body(body).map(Self::Jsonl),
            "storage" => parse_body(body).map(Self::Storage),
            _ => Err(ParseError::UnknownKind),
        }
    }

    fn validate(&self) -> Vec<FieldError> {
        match self {
            Self::Prometheus(c) => c.validate(),
            Self::Api(_) => Vec::new(),
            Self::Jsonl(c) => c.validate(),
            Self::Storage(_) => Vec::new(),
        }
    }
}

impl ExporterFactory for ExporterConfig {
    fn accepts(&self) -> &'static [Signal] {
        match self {
            Self::Prometheus(_) => &[Signal::Metrics, Signal::Events],
            Self::Api(_) | Self::Jsonl(_) | Self::Storage(_) => &[Signal::Events],
        }
    }

    async fn build(&self, id: &ComponentId, ctx: &mut BuildContext) -> Result<Exporter, BuildError> {
        match self {
            Self::Prometheus(c) => prometheus::build(c, id, ctx),
            Self::Api(c) => api::build(c, id, ctx),
            Self::Jsonl(c) => jsonl::build(c).await,
            Self::Storage(c) => Ok(storage::build_exporter(c, ctx)),
        }
    }
}

/// Every storage backend this crate ships, by `storage.backend` name.
///
/// Serialized with its `backend` key (which the loader strips before parsing), so the
/// effective config printed by driftd loads back as the same backend.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "backend", rename_all = "snake_case")]
pub enum StorageConfig {
    /// `memory`: event history in process memory, lost at restart.
    Memory(storage::memory::MemoryConfig),
}

impl ComponentConfig for StorageConfig {
    const KINDS: &'static [&'static str] = &["memory"];

    fn parse(kind: &str, body: serde_yaml::Value) -> Result<Self, ParseError> {
        match kind {
            "memory" => parse_body(body).map(Self::Memory),
            _ => Err(ParseError::UnknownKind),
        }
    }
}

impl StoreFactory for StorageConfig {
    async fn build(&self) -> Result<Arc<dyn Store>, BuildError> {
        match self {
            Self::Memory(c) => Ok(Arc::new(storage::memory::MemoryStore::new(c.max_events))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> serde_yaml::Value {
        serde_yaml::from_str(text).expect("test YAML")
    }

    #[test]
    fn every_kind_parses_with_defaults() {
        for kind in ExporterConfig::KINDS {
            let config =
                ExporterConfig::parse(kind, serde_yaml::Value::Null).unwrap_or_else(|e| panic!("{kind}: {e:?}"));
            assert!(config.validate().is_empty(), "{kind}");
        }
        assert!(matches!(
            ExporterConfig::parse("webhook", serde_yaml::Value::Null),
            Err(ParseError::UnknownKind)
        ));
    }

    #[test]
    fn unknown_fields_name_their_path() {
        let err = ExporterConfig::parse("jsonl", yaml("sending_queue: {queue_siz: 3}"));
        match err {
            Err(ParseError::Invalid { path, .. }) => assert_eq!(path, "sending_queue.queue_siz"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn configs_serialize_as_their_body() {
        let c = ExporterConfig::parse("prometheus", yaml("endpoint: 0.0.0.0:9999")).expect("parses");
        let back = serde_yaml::to_value(&c).expect("serializes");
        assert_eq!(ExporterConfig::parse("prometheus", back).expect("round trip"), c);

        let s = StorageConfig::parse("memory", yaml("max_events: 5")).expect("parses");
        let mut body = serde_yaml::to_value(&s).expect("serializes");
        let backend = body
            .as_mapping_mut()
            .and_then(|m| m.remove("backend"))
            .expect("backend key");
        assert_eq!(backend, yaml("memory"));
        assert_eq!(StorageConfig::parse("memory", body).expect("round trip"), s);
        assert!(matches!(
            StorageConfig::parse("sqlite", yaml("{}")),
            Err(ParseError::UnknownKind)
        ));
    }
}
