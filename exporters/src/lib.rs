//! driftd-exporters: how drift leaves driftd. Pull exporters (`prometheus`, `api`) read
//! the series tables at request time; pushed exporters (`jsonl`, `storage`, `webhook`,
//! `sql`) take drift events through the core's bounded queue. Storage backends live
//! under `storage/`.

pub mod api;
pub mod connection_url;
mod db_error;
pub mod jsonl;
pub mod prometheus;
pub mod sql;
pub mod storage;
#[cfg(test)]
mod testing;
pub mod webhook;

pub use prometheus::install_recorder;
pub use storage::conformance;

use driftd_core::component::{BuildContext, BuildError, Exporter, ExporterFactory, Signal, StoreFactory};
use driftd_core::config::{parse_body, ComponentConfig, ComponentId, FieldError, Kind};
use driftd_core::store::{Store, StoreError};
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
    /// `webhook`: drift alerts over HTTP (generic, Slack, Discord, PagerDuty, Alertmanager).
    Webhook(webhook::WebhookConfig),
    /// `sql`: drift events (and, optionally, raw points) as rows in PostgreSQL,
    /// MySQL/MariaDB or SQLite.
    Sql(sql::SqlConfig),
}

impl ComponentConfig for ExporterConfig {
    const KINDS: &'static [Kind<Self>] = &[
        Kind {
            name: "prometheus",
            about: "Per-series drift gauges and driftd's own telemetry, scraped (text format or OpenMetrics); with `auth: {bearer_token: ...}` a scrape must send the token (Prometheus: `authorization: {credentials: ...}`)",
            example: "{}",
            parse: |body| parse_body(body).map(Self::Prometheus),
        },
        Kind {
            name: "api",
            about: "The query API and the web console",
            example: "{}",
            parse: |body| parse_body(body).map(Self::Api),
        },
        Kind {
            name: "jsonl",
            about: "Drift events and incident updates as JSON lines, on stdout or appended to a file",
            example: "{}",
            parse: |body| parse_body(body).map(Self::Jsonl),
        },
        Kind {
            name: "storage",
            about: "Drift events and incidents into the `storage:` backend",
            example: "{}",
            parse: |body| parse_body(body).map(Self::Storage),
        },
        Kind {
            name: "webhook",
            about: "Alerts over HTTP: generic JSON, Slack, Discord, PagerDuty or Alertmanager",
            example: "url: https://hooks.example.com/driftd",
            parse: |body| parse_body(body).map(Self::Webhook),
        },
        Kind {
            name: "sql",
            about: "Drift events, incidents and optionally raw points as rows in SQLite, PostgreSQL/TimescaleDB or MySQL/MariaDB",
            example: "{}",
            parse: |body| parse_body(body).map(Self::Sql),
        },
    ];

    fn validate(&self) -> Vec<FieldError> {
        match self {
            Self::Prometheus(c) => c.validate(),
            Self::Api(_) => Vec::new(),
            Self::Jsonl(c) => c.validate(),
            Self::Storage(_) => Vec::new(),
            Self::Webhook(c) => c.validate(),
            Self::Sql(c) => c.validate(),
        }
    }
}

impl ExporterFactory for ExporterConfig {
    fn accepts(&self) -> &'static [Signal] {
        match self {
            Self::Prometheus(_) => &[Signal::Metrics, Signal::Events],
            Self::Sql(c) if c.store_points => &[Signal::Metrics, Signal::Events],
            Self::Api(_) | Self::Jsonl(_) | Self::Storage(_) | Self::Webhook(_) | Self::Sql(_) => &[Signal::Events],
        }
    }

    async fn build(&self, id: &ComponentId, ctx: &mut BuildContext) -> Result<Exporter, BuildError> {
        match self {
            Self::Prometheus(c) => prometheus::build(c, id, ctx),
            Self::Api(c) => api::build(c, id, ctx),
            Self::Jsonl(c) => jsonl::build(c).await,
            Self::Storage(c) => Ok(storage::build_exporter(c, ctx)),
            Self::Webhook(c) => webhook::build(c, id),
            Self::Sql(c) => sql::build(c).await,
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
    /// `memory`: in process memory, lost at restart.
    Memory(storage::memory::MemoryConfig),
    /// `sqlite`: an embedded database file.
    Sqlite(storage::sqlite::SqliteConfig),
    /// `redis`: a Redis server.
    Redis(storage::redis::RedisConfig),
    /// `timescale`: PostgreSQL, with hypertables when TimescaleDB is installed.
    Timescale(storage::timescale::TimescaleConfig),
}

impl StorageConfig {
    /// How long data is kept.
    pub fn retention(&self) -> std::time::Duration {
        match self {
            Self::Memory(c) => c.retention,
            Self::Sqlite(c) => c.retention,
            Self::Redis(c) => c.retention,
            Self::Timescale(c) => c.retention,
        }
    }
}

impl ComponentConfig for StorageConfig {
    const KINDS: &'static [Kind<Self>] = &[
        Kind {
            name: "memory",
            about: "In process memory, lost at restart (the default)",
            example: "{}",
            parse: |body| parse_body(body).map(Self::Memory),
        },
        Kind {
            name: "sqlite",
            about: "An embedded database file",
            example: "{}",
            parse: |body| parse_body(body).map(Self::Sqlite),
        },
        Kind {
            name: "redis",
            about: "A Redis server",
            example: "{}",
            parse: |body| parse_body(body).map(Self::Redis),
        },
        Kind {
            name: "timescale",
            about: "PostgreSQL, with hypertables, compression and retention policies when TimescaleDB is installed",
            example: "{}",
            parse: |body| parse_body(body).map(Self::Timescale),
        },
    ];

    fn validate(&self) -> Vec<FieldError> {
        match self {
            Self::Memory(c) if c.retention.is_zero() => {
                vec![FieldError::new(
                    "retention",
                    "retention must be longer than 0s, e.g. 7d",
                )]
            }
            Self::Memory(_) => Vec::new(),
            Self::Sqlite(c) => c.validate(),
            Self::Redis(c) => c.validate(),
            Self::Timescale(c) => c.validate(),
        }
    }
}

impl StorageConfig {
    /// Opens the backend, without the pruning task [`StoreFactory::build`] adds (for
    /// tests that decide when to prune). A server that does not answer is logged and the
    /// store is used anyway (it reconnects; writes queue and retry meanwhile): driftd
    /// degrades rather than stops. A store that refuses driftd (bad URL, login, missing
    /// database, unwritable file) fails here.
    pub async fn open(&self) -> Result<Arc<dyn Store>, BuildError> {
        let refused = BuildError::Store;
        let (store, probe): (Arc<dyn Store>, Result<(), StoreError>) = match self {
            Self::Memory(c) => (Arc::new(storage::memory::MemoryStore::new(c.max_events)), Ok(())),
            Self::Sqlite(c) => {
                let s = storage::sqlite::open(c).map_err(refused)?;
                let probe = s.ready().await.map(|_| ());
                (Arc::new(s), probe)
            }
            Self::Redis(c) => {
                let s = storage::redis::open(c).map_err(refused)?;
                let probe = s.ping().await;
                (Arc::new(s), probe)
            }
            Self::Timescale(c) => {
                let s = storage::timescale::open(c).map_err(refused)?;
                let probe = s.ready().await.map(|_| ());
                (Arc::new(s), probe)
            }
        };
        match probe {
            Ok(()) => tracing::info!(backend = store.backend(), "storage ready"),
            Err(e @ StoreError::Unavailable(_)) => tracing::warn!(
                backend = store.backend(),
                error = %e,
                "storage is unreachable: driftd runs without it and retries; writes queue and are retried"
            ),
            Err(e) => return Err(refused(e)),
        }
        Ok(store)
    }
}

impl StoreFactory for StorageConfig {
    /// Opens the backend ([`StorageConfig::open`]) and starts pruning it every so often.
    async fn build(&self) -> Result<Arc<dyn Store>, BuildError> {
        let store = self.open().await?;
        storage::spawn_pruning(&store, self.retention());
        Ok(store)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use driftd_core::config::ParseError;

    fn yaml(text: &str) -> serde_yaml::Value {
        serde_yaml::from_str(text).expect("test YAML")
    }

    #[test]
    fn every_kind_parses_with_defaults() {
        // A webhook has no sensible default endpoint.
        for kind in ExporterConfig::KINDS.iter().map(|k| k.name).filter(|k| *k != "webhook") {
            let config =
                ExporterConfig::parse(kind, serde_yaml::Value::Null).unwrap_or_else(|e| panic!("{kind}: {e:?}"));
            assert!(config.validate().is_empty(), "{kind}");
        }
        assert!(matches!(
            ExporterConfig::parse("webhook", serde_yaml::Value::Null),
            Err(ParseError::Invalid { .. })
        ));
        assert!(matches!(
            ExporterConfig::parse("kafka", serde_yaml::Value::Null),
            Err(ParseError::UnknownKind)
        ));
        for kind in StorageConfig::KINDS.iter().map(|k| k.name) {
            let config =
                StorageConfig::parse(kind, serde_yaml::Value::Null).unwrap_or_else(|e| panic!("{kind}: {e:?}"));
            assert!(config.validate().is_empty(), "{kind}");
        }
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
            StorageConfig::parse("cassandra", yaml("{}")),
            Err(ParseError::UnknownKind)
        ));
    }
}
