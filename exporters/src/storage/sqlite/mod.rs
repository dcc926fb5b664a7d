//! `sqlite`: events, statuses and checkpoints in one embedded database file. SQLite is
//! compiled in (sqlx's bundled libsqlite3), so nothing needs installing.
//!
//! Why sqlx rather than rusqlite: the `timescale` backend and the `sql` exporter
//! already use sqlx, so SQLite shares their async pool, their SQL (the `sql` module)
//! and their error classification instead of a second, blocking code path.

mod config;

pub use config::SqliteConfig;

use crate::sql::{Dialect, SqlStore, Target};
use driftd_core::store::StoreError;

/// A URL sqlx reads `path` from: `?` and `#` (and `%`) are percent-encoded so any file
/// name works; `mode=rwc` creates the file when missing.
fn url_for(path: &str) -> String {
    let encoded = path.replace('%', "%25").replace('?', "%3F").replace('#', "%23");
    format!("sqlite://{encoded}?mode=rwc")
}

/// Builds the store over the database file; `ready()` opens it (creating it and its
/// tables when missing).
pub(crate) fn open(config: &SqliteConfig) -> Result<SqlStore, StoreError> {
    SqlStore::open(
        Target {
            backend: "sqlite",
            dialect: Dialect::Sqlite,
            url: &url_for(&config.path),
            shown: config.path.clone(),
            max_connections: 4,
            table_prefix: "driftd_",
        },
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::conformance;
    use driftd_core::store::Store;
    use std::sync::Arc;

    async fn opened(config: &SqliteConfig) -> Result<SqlStore, StoreError> {
        let store = open(config)?;
        store.ready().await?;
        Ok(store)
    }

    #[tokio::test]
    async fn passes_every_suite() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut n = 0;
        conformance::run_all(|| {
            n += 1;
            let path = dir.path().join(format!("store-{n}.db"));
            async move {
                let config = SqliteConfig {
                    path: path.display().to_string(),
                    ..SqliteConfig::default()
                };
                Arc::new(opened(&config).await.expect("opens")) as Arc<dyn Store>
            }
        })
        .await;
    }

    #[tokio::test]
    async fn data_survives_reopening_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = SqliteConfig {
            path: dir.path().join("odd ?#% name.db").display().to_string(),
            ..SqliteConfig::default()
        };
        let saved = conformance::sample_checkpoint("latency_ms", "api", b"\x00state\xff", conformance::BASE_TIME);
        let store = opened(&config).await.expect("opens");
        store
            .save_checkpoints("drift", std::slice::from_ref(&saved))
            .await
            .expect("saves");
        let incident = conformance::sample_incident("checkout", conformance::BASE_TIME);
        store
            .save_incidents(std::slice::from_ref(&incident))
            .await
            .expect("saves");
        assert!(store.acknowledge_incident(&incident.id).await.expect("acks"));
        drop(store);
        let store = opened(&config).await.expect("reopens");
        assert_eq!(store.load_checkpoints("drift").await.expect("loads"), [saved]);
        let back = store.incident(&incident.id).await.expect("reads").expect("kept");
        assert_eq!(
            back.state,
            driftd_core::IncidentState::Acknowledged,
            "incidents and their acknowledgement survive"
        );
    }

    #[tokio::test]
    async fn an_unopenable_file_fails_at_startup() {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = SqliteConfig {
            path: dir.path().join("missing/dir/driftd.db").display().to_string(),
            ..SqliteConfig::default()
        };
        match opened(&config).await {
            Err(StoreError::Rejected(message)) => assert!(message.contains("missing/dir"), "{message}"),
            Err(e) => panic!("expected Rejected, got {e}"),
            Ok(_) => panic!("expected an error"),
        }
    }
}
